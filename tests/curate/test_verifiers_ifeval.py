"""Acceptance: our verifiers agree with the official IFEval checker on GPT-4's 541 responses."""
from __future__ import annotations

import json

import pytest

from alignsmith.curate.verifiers import VERIFIERS, verify


def _jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def ifeval(shared_data):
    root = shared_data / "ifeval"
    inputs = _jsonl(root / "input_data.jsonl")
    responses = {r["prompt"]: r["response"]
                 for r in _jsonl(root / "input_response_data_gpt4_20231107_145030.jsonl")}
    official = {m: _jsonl(root / "official_results" / f"eval_results_{m}.jsonl") for m in ("strict", "loose")}
    summary = json.loads((root / "official_results" / "summary.json").read_text())
    return inputs, responses, official, summary


def test_every_ifeval_instruction_type_is_registered(ifeval):
    inputs = ifeval[0]
    used = {i for row in inputs for i in row["instruction_id_list"]}
    assert len(used) == 25
    assert used <= set(VERIFIERS.names())


@pytest.mark.parametrize("mode", ["strict", "loose"])
def test_all_834_verdicts_and_accuracies_match_official(ifeval, mode):
    inputs, responses, official, summary = ifeval
    mismatches, prompt_ok, inst_ok, inst_total = [], 0, 0, 0
    for row, expected in zip(inputs, official[mode], strict=True):
        assert row["prompt"] == expected["prompt"]
        verdicts = verify(row["instruction_id_list"], row["kwargs"], responses[row["prompt"]],
                          prompt=row["prompt"], mode=mode, key=row["key"])
        for instruction_id, ours, theirs in zip(row["instruction_id_list"], verdicts,
                                                expected["follow_instruction_list"]):
            if ours != theirs:
                mismatches.append((row["key"], instruction_id, ours, theirs))
        prompt_ok += all(verdicts)
        inst_ok += sum(verdicts)
        inst_total += len(verdicts)
    assert mismatches == []
    assert inst_total == 834
    assert prompt_ok / len(inputs) == pytest.approx(summary[mode]["prompt_level"], abs=1e-12)
    assert inst_ok / inst_total == pytest.approx(summary[mode]["instruction_level"], abs=1e-12)
