"""`prompts augment`: compatible, verifiable, reproducible constraints on plain instructions."""
from __future__ import annotations

import itertools
import json

import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import make_prompt_row
from alignsmith.curate.generate.augment import augment_prompts, load_instructions
from alignsmith.curate.generate.augment_catalog import CONFLICTS, TEMPLATES, conflicts
from alignsmith.curate.verifiers import VERIFIERS, VerifierError, verify
from alignsmith.train.cli import main


@pytest.fixture(scope="module")
def seed_tasks(shared_data):
    rows, duplicates = load_instructions(shared_data / "stanford_alpaca" / "seed_tasks.jsonl")
    assert len(rows) + len(duplicates) == 175
    return rows


def test_every_augmented_prompt_is_verifiable_and_conflict_free(seed_tasks):
    augmented = augment_prompts(seed_tasks, seed=3)
    assert len(augmented) == len(seed_tasks)
    seen_types = set()
    for row in augmented:
        ids, kwargs = row["instruction_id_list"], row["kwargs"]
        assert 1 <= len(ids) <= 3 and len(kwargs) == len(ids)
        assert not any(conflicts(a, b) for a, b in itertools.combinations(ids, 2)), ids
        text = row["prompt"][-1]["content"]
        for response in ("A plain answer, with a comma.", ""):
            verdicts = verify(ids, kwargs, response, prompt=text)  # raises on anything unverifiable
            assert len(verdicts) == len(ids)
        for k in kwargs:  # every sampled number is stated in the prompt text
            assert all(str(v) in text for v in k.values() if isinstance(v, int))
        assert row["prompt_id"] != row["base_prompt_id"]
        seen_types.update(ids)
    assert len(seen_types) >= 20


def test_same_seed_same_output_and_independent_of_order(seed_tasks):
    first = augment_prompts(seed_tasks[:40], seed=11)
    assert first == augment_prompts(seed_tasks[:40], seed=11)
    reversed_run = augment_prompts(list(reversed(seed_tasks[:40])), seed=11)
    assert first == list(reversed(reversed_run))
    other = augment_prompts(seed_tasks[:40], seed=12)
    assert [r["instruction_id_list"] for r in first] != [r["instruction_id_list"] for r in other]


def test_allowed_ids_and_counts_are_respected(seed_tasks):
    allowed = ["punctuation:no_comma", "length_constraints:number_words", "startend:end_checker"]
    rows = augment_prompts(seed_tasks, seed=0, min_constraints=2, max_constraints=2, allowed_ids=allowed)
    assert all(len(r["instruction_id_list"]) == 2 and set(r["instruction_id_list"]) <= set(allowed) for r in rows)


def test_repeat_prompt_kwarg_is_the_text_before_it():
    row = make_prompt_row("Describe a lighthouse.")
    out = augment_prompts([row], seed=0, min_constraints=2, max_constraints=2,
                          allowed_ids=["combination:repeat_prompt", "startend:end_checker"])[0]
    assert out["instruction_id_list"][-1] == "combination:repeat_prompt"
    to_repeat = out["kwargs"][-1]["prompt_to_repeat"]
    assert to_repeat.startswith("Describe a lighthouse.") and out["kwargs"][0]["end_phrase"] in to_repeat
    assert out["prompt"][0]["content"].startswith(to_repeat + " First repeat the request")
    assert verify(["combination:repeat_prompt"], [out["kwargs"][-1]], to_repeat + "\n\nIt shines.") == [True]


def test_existing_constraints_are_kept_and_respected():
    row = make_prompt_row("Give me a list of fruits.", instruction_id_list=["detectable_format:json_format"],
                          kwargs=[{}])
    for seed in range(20):
        out = augment_prompts([row], seed=seed)[0]
        assert out["instruction_id_list"][0] == "detectable_format:json_format"
        assert not any(conflicts("detectable_format:json_format", i) for i in out["instruction_id_list"][1:])


def test_conflict_table_names_only_real_types_and_catches_json_plus_no_comma():
    assert conflicts("detectable_format:json_format", "punctuation:no_comma")
    assert conflicts("combination:repeat_prompt", "keywords:existence")  # repeating would satisfy it for free
    assert not conflicts("startend:end_checker", "combination:repeat_prompt")
    assert conflicts("punctuation:no_comma", "detectable_format:json_format")
    assert not conflicts("punctuation:no_comma", "detectable_format:title")
    assert set(TEMPLATES) <= set(VERIFIERS.names())
    assert all(len(pair) == 2 and pair <= set(VERIFIERS.names()) for pair in CONFLICTS)


def test_bad_options_are_errors():
    row = make_prompt_row("Say hi.")
    with pytest.raises(VerifierError, match="Did you mean"):
        augment_prompts([row], seed=0, allowed_ids=["punctuation:no_coma"])
    with pytest.raises(InputError, match="min"):
        augment_prompts([row], seed=0, min_constraints=3, max_constraints=1)
    with pytest.raises(InputError, match="compatible"):
        augment_prompts([row], seed=0, min_constraints=2, max_constraints=2,
                        allowed_ids=["change_case:english_lowercase", "change_case:english_capital"])


def test_cli_writes_prompt_rows(shared_data, tmp_path, capsys):
    out = tmp_path / "aug.jsonl"
    code = main(["prompts", "augment", "--input", str(shared_data / "stanford_alpaca" / "seed_tasks.jsonl"),
                 "--out", str(out), "--seed", "5", "--min", "1", "--max", "2"])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 175 and all(1 <= len(r["instruction_id_list"]) <= 2 for r in rows)
    assert {"prompt_id", "prompt", "instruction_id_list", "kwargs", "category", "source"} <= set(rows[0])
    assert "wrote 175 prompts" in capsys.readouterr().out


def test_instructions_load_from_a_saved_datasets_folder(tmp_path):
    import datasets
    folder = tmp_path / "ds"
    datasets.Dataset.from_list([{"instruction": "Name three rivers.", "instances": [{"input": "", "output": ""}]},
                                {"instruction": "Sort these words.", "instances": [{"input": "b a", "output": ""}]}]
                               ).save_to_disk(str(folder))
    rows, duplicates = load_instructions(folder)
    assert [r["prompt"][0]["content"] for r in rows] == ["Name three rivers.", "Sort these words.\n\nb a"]
    assert duplicates == []
    assert len(augment_prompts(rows, seed=0)) == 2
