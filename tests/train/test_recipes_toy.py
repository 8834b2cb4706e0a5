"""Both packaged recipes end to end at toy size on the real parts: SmolLM2 through vLLM, the verifiers and
the safety scorer, TRL's DPO with LoRA, eval runs and compare (several minutes each, so `slow`)."""
from __future__ import annotations

import json

import pytest

from alignsmith.train.recipes.runner import run_recipe
from alignsmith.train.recipes.spec import load_recipe

pytestmark = pytest.mark.slow


def _check_results(results: dict, seeds: list[int], metrics: list[str]) -> None:
    assert [s["seed"] for s in results["seeds"]] == seeds
    for name in metrics:
        assert name in results["base"]
        for s in results["seeds"]:
            assert name in s["metrics"]
            entry = s["compare"][name]
            # compare leaves p_value empty where no test can run (e.g. a toy slice with no item of a subset)
            assert entry["p_value"] is None or 0.0 <= entry["p_value"] <= 1.0
    first = metrics[0]  # a pass/fail metric over the same items: the paired diff is the difference of means
    for s in results["seeds"]:
        assert s["compare"][first]["diff"] == pytest.approx(s["metrics"][first] - results["base"][first], abs=1e-9)
        assert 0.0 <= s["compare"][first]["p_value"] <= 1.0
    assert results["minutes"] > 0


def test_ifeval_recipe_toy_end_to_end(tmp_path, shared_data):
    import os
    out = tmp_path / "ifeval"
    recipe = load_recipe("ifeval-dpo", scale="toy", seeds=[0], out=str(out), data=str(shared_data))
    # Two stages at a time where there are two cores (as the cpu-scale run is timed): two vLLM engines, each
    # bound to its own core, e.g. the base model's IFEval eval beside candidate generation.
    jobs = min(2, len(os.sched_getaffinity(0)))
    result = run_recipe(recipe, out, echo=print, jobs=jobs)
    if jobs == 2:
        first_lines = {s.name: (out / s.name / "log.txt").read_text().splitlines()[0] for s in recipe.stages}
        assert all("# cores " in line for line in first_lines.values())
        assert len({line.rsplit("# cores ", 1)[1] for line in first_lines.values()}) == 2
    results = json.loads((out / "results.json").read_text())
    assert results == json.loads(json.dumps(result["results"]))
    _check_results(results, [0], ["ifeval/prompt_strict", "ifeval/inst_strict", "safety/harmful_refusal"])
    assert "ifeval/response_words" in results["seeds"][0]["compare"]
    card = json.loads((out / "pairs" / "run" / "card.json").read_text())
    assert card["stages"]["pairs_out"] > 0
    assert (out / "runs" / "train-dpo" / "train-seed0" / "merged" / "config.json").exists()
    # A rerun reuses every finished stage and does no work.
    lines: list[str] = []
    run_recipe(load_recipe("ifeval-dpo", scale="toy", seeds=[0], out=str(out), data=str(shared_data)), out,
               echo=lines.append)
    assert sum("reused" in line for line in lines) == len(recipe.stages)


def test_safety_recipe_toy_end_to_end(tmp_path, shared_data):
    out = tmp_path / "safety"
    recipe = load_recipe("safety-dpo", scale="toy", seeds=[0], out=str(out), data=str(shared_data))
    # Every stage but the last first: the report written then says it is partial, under another name.
    run_recipe(recipe, out, echo=print, only={s.name for s in recipe.stages} - {"compare-ifeval-seed0"})
    assert not (out / "results.json").exists()
    partial = json.loads((out / "results.partial.json").read_text())
    assert partial["complete"] is False and partial["missing"] == ["compare-ifeval-seed0"]
    assert "safety/harmful_refusal" in partial["seeds"][0]["compare"]
    assert "ifeval/prompt_strict" not in partial["seeds"][0]["compare"]
    run_recipe(recipe, out, echo=print)
    assert not (out / "results.partial.json").exists()
    results = json.loads((out / "results.json").read_text())
    assert "complete" not in results
    # The SFT warm start ran per seed and DPO started from its weights.
    assert (out / "runs" / "train-sft" / "train-sft-seed0" / "merged" / "config.json").exists()
    dpo_log = (out / "train-seed0" / "log.txt").read_text()
    assert "--model " + str(out / "runs" / "train-sft" / "train-sft-seed0" / "merged") in dpo_log
    _check_results(results, [0], ["safety/harmful_refusal", "safety/over_refusal", "ifeval/prompt_strict"])
    labelled = [json.loads(line) for line in (out / "label" / "prompts.jsonl").read_text().splitlines()]
    assert {r["category"] for r in labelled} == {"harmful", "benign"}
    # Context distillation: every candidate, also those written under the system prompt, sits on the
    # prompt without the system message.
    import pyarrow.parquet as pq
    cands = pq.read_table(out / "merge" / "candidates.parquet").to_pylist()
    assert {c["generated_with"] for c in cands} == {"plain", "system_prompt", "written_refusal"}
    assert all(all(m["role"] != "system" for m in c["prompt"]) for c in cands)
    pairs = pq.read_table(out / "pairs" / "run" / "dpo.parquet").to_pylist()
    assert pairs and all(all(m["role"] != "system" for m in p["prompt"]) for p in pairs)
    # The dashboard reads OUT/runs like any runs root: the Safety page gets the base and the trained model.
    from alignsmith.dashboards.store import discover_runs, finished
    runs, problems = discover_runs(out / "runs")
    assert not problems
    assert {r.name for r in finished(runs, "eval")} >= {"eval-safety-base", "eval-safety-seed0"}
