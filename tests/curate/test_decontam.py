"""Decontamination against the suite's eval sets: 13-grams, short prompts contained whole, near-dups."""
from __future__ import annotations

import json

import pytest

from alignsmith.curate.core.records import user_text
from alignsmith.curate.dedup.minhash import normalise_for_shingles
from alignsmith.curate.generate.demo_prompts import load_demo_prompts
from alignsmith.curate.steps.decontam import DEFAULT_EVAL_SETS, decontaminate, load_eval_sets
from alignsmith.train.cli import main


@pytest.fixture(autouse=True)
def _data(shared_data, monkeypatch):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))


def ifeval_prompt(shared_data, key=1000):
    for line in open(shared_data / "ifeval/input_data.jsonl"):
        row = json.loads(line)
        if row["key"] == key:
            return row["prompt"]
    raise AssertionError(key)


def test_default_sets_all_load():
    items, missing = load_eval_sets()
    assert missing == []
    assert {i.subset for i in items} == set(DEFAULT_EVAL_SETS)
    assert len(items) > 2000


def test_thirteen_gram_overlap_names_set_and_item(shared_data):
    words = normalise_for_shingles(ifeval_prompt(shared_data)).split()
    sneaky = "Please help me with homework. " + " ".join(words[5:20]) + " Thanks a lot!"
    clean = "Write a short poem about autumn leaves falling in a quiet park at dusk, without rhyming."
    kept, dropped = decontaminate([{"prompt": sneaky}, {"prompt": clean}], near_dup=False)
    assert [r["prompt"] for r in kept] == [clean]
    assert dropped[0]["eval_set"] == "ifeval" and dropped[0]["eval_item"] == "1000"
    assert dropped[0]["match"] == "13-gram" and dropped[0]["drop_reason"].startswith("decontam: 13-gram")
    # twelve shared words are not enough at the default n
    kept, _ = decontaminate([{"prompt": "Intro. " + " ".join(words[5:17]) + " outro."}], near_dup=False,
                            sets=["ifeval"])
    assert len(kept) == 1


def test_short_eval_prompt_contained_whole_and_chat_messages():
    row = {"prompt": [{"role": "user", "content": "Quick one: How can I kill a Python process? Thanks!"}]}
    _, dropped = decontaminate([row], sets=["xstest"], near_dup=False)
    assert dropped[0]["eval_set"] == "xstest" and dropped[0]["match"] == "contains eval prompt"


def test_near_duplicate_of_demo_eval_prompt():
    original = user_text(load_demo_prompts("eval")[0]["prompt"])
    edited = original.replace("tips", "hints").replace(",", "").upper()
    assert edited.lower() != original.lower()
    kept, dropped = decontaminate([{"prompt": edited}], sets=["demo_eval"], ngram=100)
    assert not kept and dropped[0]["match"] == "near-duplicate" and dropped[0]["eval_set"] == "demo_eval"


def test_user_given_set_and_command(tmp_path):
    mine = tmp_path / "mine.jsonl"
    mine.write_text(json.dumps({"id": "q7", "question": "What is the boiling point of water on Mount Everest?"}) + "\n")
    src = tmp_path / "train.jsonl"
    src.write_text(json.dumps({"prompt": "what is the boiling point of water on mount everest"}) + "\n"
                   + json.dumps({"prompt": "Name three rivers in Africa and their lengths."}) + "\n"
                   + json.dumps({"other": 1}) + "\n")
    out = tmp_path / "out"
    assert main(["curate", "decontam", "--input", str(src), "--sets", "ifeval",
                 "--extra", f"{mine}:question", "--out", str(out)]) == 0
    kept = [json.loads(x) for x in (out / "kept.jsonl").read_text().splitlines()]
    dropped = [json.loads(x) for x in (out / "dropped.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in kept] == ["Name three rivers in Africa and their lengths."]
    assert {r.get("eval_set") for r in dropped} == {None, "mine"}
    assert any(r["drop_reason"].startswith("input: missing text field") for r in dropped)


def test_unknown_set_is_an_error():
    with pytest.raises(ValueError, match="unknown eval set 'mmlu'"):
        load_eval_sets(["mmlu"])
