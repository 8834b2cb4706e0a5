"""compare_runs on in-memory eval runs: bad input is named, the noise floor gates, MDE beside every verdict."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignsmith.evaluate.compare import compare_markdown, compare_runs
from alignsmith.evaluate.results import EvalRun

CONFIG = {"kind": "eval", "tasks": {"ifeval": {"version": "1", "primary": "inst_strict", "metrics": [
    {"name": "prompt_strict", "higher_is_better": True, "weight": None},
    {"name": "inst_strict", "higher_is_better": True, "weight": "n_instructions"}]}}}


def make_run(name: str, prompt: np.ndarray, inst: np.ndarray, n_instr: np.ndarray, samples: int = 1) -> EvalRun:
    """Items × samples rows (prompt/inst arrays shaped items x samples or items)."""
    prompt = np.asarray(prompt, float).reshape(len(n_instr), -1)
    inst = np.asarray(inst, float).reshape(len(n_instr), -1)
    rows = [{"task": "ifeval", "item_id": f"i{i}", "prompt_id": f"p{i}", "sample": s,
             "prompt_strict": prompt[i, s], "inst_strict": inst[i, s], "n_instructions": float(n_instr[i])}
            for i in range(len(n_instr)) for s in range(samples)]
    return EvalRun(Path(name), CONFIG, {}, pd.DataFrame(rows))


def test_markdown_has_test_p_holm_interval_and_mde():
    rng = np.random.default_rng(0)
    k = rng.integers(1, 4, 40)
    base = make_run("b", rng.random(40) < 0.6, rng.binomial(k, 0.7) / k, k)
    new = make_run("n", rng.random(40) < 0.6, rng.binomial(k, 0.7) / k, k)
    result = compare_runs(base, new)
    rows = {r["metric"]: r for r in result["metrics"]}
    assert rows["ifeval/prompt_strict"]["test"] == "mcnemar_exact"
    assert rows["ifeval/inst_strict"]["test"] == "sign_flip_mc"
    for r in rows.values():
        assert r["mde"] > 0 and r["p_holm"] >= r["p_value"] and r["ci_low"] <= r["diff"] <= r["ci_high"]
    md = compare_markdown(result)
    assert "| MDE |" in md and "p (Holm)" in md and "80% power to detect ±" in md


def test_fewer_than_two_items_and_mismatched_weights_are_not_tested():
    one_b = make_run("b", [1.0], [0.5], np.array([2]))
    one_n = make_run("n", [0.0], [1.0], np.array([2]))
    with pytest.raises(ValueError, match="no metric could be tested.*ifeval/prompt_strict: not tested: only 1"):
        compare_runs(one_b, one_n)
    base = make_run("b", [1, 0, 1, 1], [0.5, 0.0, 1.0, 1.0], np.array([2, 1, 3, 1]))
    new = make_run("n", [1, 1, 1, 0], [0.5, 1.0, 1.0, 0.0], np.array([2, 2, 3, 1]))
    result = compare_runs(base, new)
    inst = next(r for r in result["metrics"] if r["metric"] == "ifeval/inst_strict")
    assert inst["verdict"] == "not tested" and "weights differ between the runs on 1 item" in inst["note"]
    assert result["not_tested"] == ["ifeval/inst_strict"]
    assert "**NOT TESTED**: ifeval/inst_strict" in compare_markdown(result)


def test_nan_values_are_counted_and_identical_items_flagged():
    base = make_run("b", [1, 1, 1, 1, 1], [1.0, 1.0, np.nan, 1.0, 1.0], np.ones(5))
    new = make_run("n", [1, 1, 1, 1, 1], [1.0, 1.0, 1.0, 1.0, 1.0], np.ones(5))
    rows = {r["metric"]: r for r in compare_runs(base, new)["metrics"]}
    assert rows["ifeval/inst_strict"]["n"] == 4
    assert "1 item(s) left out: value missing (NaN)" in rows["ifeval/inst_strict"]["note"]
    assert rows["ifeval/prompt_strict"]["verdict"] == "no change on any item"
    assert "same value 1 in both runs" in rows["ifeval/prompt_strict"]["note"]


def test_noise_floor_keeps_a_seed_sized_difference_from_being_a_regression():
    """Two checkpoints sampled 4 times each: a small but 'significant' drop inside the run-to-run spread is
    reported as within the noise floor, a drop well beyond it as a regression."""
    rng = np.random.default_rng(3)
    items, k = 300, 4
    ability = rng.beta(4, 2, items)
    n_instr = rng.integers(1, 4, items)

    def sampled(shift):
        # Items change differently between checkpoints; each seed wobbles the whole run.
        item_change = rng.normal(0, 0.2, (items, 1)) if shift else 0.0
        p = np.clip(ability[:, None] + item_change + shift + rng.normal(0, 0.12, (1, k)), 0, 1)
        inst = rng.binomial(n_instr[:, None], np.broadcast_to(p, (items, k))) / n_instr[:, None]
        return (inst == 1).astype(float), inst

    base = make_run("b", *sampled(0.0), n_instr, samples=k)
    near = make_run("n", *sampled(-0.08), n_instr, samples=k)
    far = make_run("f", *sampled(-0.5), n_instr, samples=k)
    near_rows = {r["metric"]: r for r in compare_runs(base, near)["metrics"]}
    far_rows = {r["metric"]: r for r in compare_runs(base, far)["metrics"]}
    r = near_rows["ifeval/inst_strict"]
    # Significant for a test that sees items only, but smaller than re-running with other seeds moves it.
    assert r["p_holm"] < 0.05 and r["diff"] < 0
    assert r["noise_floor"] > abs(r["diff"]) and r["verdict"] == "within noise floor"
    assert 0 < r["variance"]["sampling_share"] < 1 and r["variance"]["samples"] == k
    assert 0 < r["variance"]["base_sampling_share"] < 1 and 0 < r["variance"]["new_sampling_share"] < 1
    assert far_rows["ifeval/inst_strict"]["verdict"] == "regressed"
    assert far_rows["ifeval/inst_strict"]["noise_floor"] < abs(far_rows["ifeval/inst_strict"]["diff"])


def test_power_plan_from_two_pilots_and_one(tmp_path):
    from statsmodels.stats.power import TTestPower

    from alignsmith.evaluate.compare_plan import plan
    rng = np.random.default_rng(5)
    k = rng.integers(1, 4, 60)
    base = make_run("b", rng.random(60) < 0.6, rng.binomial(k, 0.7) / k, k)
    new = make_run("n", rng.random(60) < 0.6, rng.binomial(k, 0.7) / k, k)
    two = plan(base, new, "inst_strict", 0.02)
    expected = TTestPower().solve_power(effect_size=0.02 / two["sd_diff"], alpha=0.05, power=0.8)
    assert two["items_needed"] == int(np.ceil(expected)) and two["pilot_items"] == 60
    one = plan(base, None, "ifeval/inst_strict", -0.02)
    assert one["items_needed"] > 0 and "one pilot run" in one["how"]
    with pytest.raises(ValueError, match="not in"):
        plan(base, None, "nope", 0.02)
