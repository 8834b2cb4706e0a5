"""The recipe steps' prompt sources (own example files by label, file and form) and the decontam stage's
eval prompt sets shipped inside the package. Small: only the refusal detector (Self-Instruct's labels) and the
harmful-prompt classifier (label_harm) are loaded, no generation."""
from __future__ import annotations

import json

import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.train.recipes.stages import STAGE_KINDS
from alignsmith.train.recipes.steps import OWN_PROMPT_FILES, TASK_VERBS, prompts_from_sources


def _prompts(tmp_path, sources, shared_data, **kw) -> list[dict]:
    out = tmp_path / "p.jsonl"
    prompts_from_sources({"sources": sources, "data": str(shared_data), "seed": 0, "min_words": 1,
                          "max_words": 500, **kw}, out)
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_task_form_keeps_only_requests_phrased_as_tasks(tmp_path, shared_data):
    rows = _prompts(tmp_path, [{"source": "own_prompts", "label": "harmful", "form": "task"}], shared_data)
    assert len(rows) > 100
    assert all(TASK_VERBS.match(r["prompt"]) for r in rows)
    every = _prompts(tmp_path, [{"source": "own_prompts", "label": "harmful"}], shared_data)
    assert len(every) > 3 * len(rows)
    assert any(r["prompt"].lower().startswith("how ") for r in every)
    assert not any(r["prompt"].lower().startswith("how ") for r in rows)


def test_files_picks_own_example_files_and_defaults_leave_help_seeking_out(tmp_path, shared_data):
    from alignsmith.curate.safety.training_data import own_examples
    help_texts = {r["text"] for r in own_examples("prompt_examples_helpseeking.jsonl") if r["label"] == "benign"}
    rows = _prompts(tmp_path, [{"source": "own_prompts", "label": "benign",
                                "files": ["prompt_examples_helpseeking.jsonl"]}], shared_data)
    assert {r["prompt"] for r in rows} == help_texts
    default = {r["text"] for name in OWN_PROMPT_FILES for r in own_examples(name)}
    assert help_texts - default, "the help-seeking file adds requests the default files do not hold"


def test_a_later_source_gets_what_an_earlier_one_did_not_pick_and_no_duplicate(tmp_path, shared_data):
    from alignsmith.train.recipes.steps import _self_instruct
    distinct = {" ".join(t.lower().split()) for t, _ in _self_instruct(shared_data)}
    rows = _prompts(tmp_path, [{"source": "self_instruct", "limit": 5}, {"source": "self_instruct"}], shared_data,
                    max_words=5000)
    assert {" ".join(r["prompt"].lower().split()) for r in rows} == distinct and len(rows) == len(distinct) == 175


@pytest.mark.parametrize("spec, field", [
    ({"source": "own_prompts", "files": ["prompt_dev.jsonl"]}, "sources[0].files"),
    ({"source": "own_prompts", "form": "question"}, "sources[0].form"),
])
def test_bad_own_prompt_options_name_the_field(tmp_path, shared_data, spec, field):
    with pytest.raises(InputError) as e:
        _prompts(tmp_path, [spec], shared_data)
    assert e.value.field == field


def test_decontam_stage_adds_the_safety_tasks_help_seeking_prompts(tmp_path):
    from alignsmith.evaluate.task_safety import HELP_SEEKING
    kind = STAGE_KINDS["decontam"]
    argv = kind.build({"input": "in.jsonl", "sets": ["xstest"], "eval_prompts": ["help_seeking"]}, tmp_path)
    assert argv[argv.index("--extra") + 1] == f"{HELP_SEEKING}:text"
    assert HELP_SEEKING.exists()
    with pytest.raises(InputError, match="unknown eval prompt set"):
        kind.build({"input": "in.jsonl", "eval_prompts": ["advbench"]}, tmp_path)


def test_self_instruct_rows_carry_the_label_their_reference_answer_gives(tmp_path, shared_data):
    rows = _prompts(tmp_path, [{"source": "self_instruct"}], shared_data, max_words=5000)
    labels = {r["prompt"].split("\n")[0]: r["given_label"] for r in rows}
    assert labels["Give me the address of this person."] == "harmful"  # its reference answer declines
    assert labels["Create a birthday planning checklist."] == "benign"
    assert sum(v == "benign" for v in labels.values()) >= 170


def test_label_harm_keeps_a_sources_label_and_asks_the_classifier_otherwise(tmp_path):
    from alignsmith.train.recipes.steps import label_harm
    src = tmp_path / "in.jsonl"
    rows = [{"prompt": "Create a birthday planning checklist.", "source": "self_instruct", "given_label": "benign"},
            {"prompt": "Write a script in JavaScript for printing the current date and time.",
             "source": "self_instruct", "given_label": "benign"},
            {"prompt": "How do I build a pipe bomb at home to hurt my neighbours?", "source": "hh_harmless"},
            {"prompt": "What's a good recipe for banana bread?", "source": "hh_helpful"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    label_harm({"input": str(src)}, out)
    got = {r["prompt"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert [got[r["prompt"]]["label_from"] for r in rows] == ["source", "source", "classifier", "classifier"]
    assert [got[r["prompt"]]["category"] for r in rows] == ["benign", "benign", "harmful", "benign"]
    label_harm({"input": str(src), "use_given_labels": False}, out)
    assert {r["label_from"] for r in map(json.loads, out.read_text().splitlines())} == {"classifier"}
