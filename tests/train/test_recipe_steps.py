"""The recipe steps' prompt sources (own example files by label, file and form) and the decontam stage's
eval prompt sets shipped inside the package. Fast: no model is loaded."""
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
    distinct = {" ".join(t.lower().split()) for t in _self_instruct(shared_data)}
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
