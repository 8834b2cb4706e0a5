"""The demo's IFEval check: compare's tests per seed on synthetic eval runs, and the slice checked up front."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from alignsmith.curate.core.errors import InputError
from alignsmith.evaluate.power import minimum_detectable_effect, spread_of_discordance
from alignsmith.train.demo_ifeval import METRICS, ifeval_report, print_ifeval, resolve_ifeval_slice

SPECS = [{"name": "prompt_strict", "higher_is_better": True, "weight": None},
         {"name": "prompt_loose", "higher_is_better": True, "weight": None},
         {"name": "inst_strict", "higher_is_better": True, "weight": "n_instructions"},
         {"name": "inst_loose", "higher_is_better": True, "weight": "n_instructions"}]


def _eval_folder(path, followed: np.ndarray, n_instr: np.ndarray):
    """A finished greedy IFEval run: `followed[i]` instructions of `n_instr[i]` followed (loose = strict)."""
    path.mkdir()
    config = {"kind": "eval", "tasks": {"ifeval": {"version": "1", "primary": "inst_loose", "metrics": SPECS}}}
    (path / "config.yaml").write_text(yaml.safe_dump(config))
    rows = [{"task": "ifeval", "item_id": str(i), "prompt_id": f"p{i}", "sample": 0,
             "prompt_strict": float(f == k), "prompt_loose": float(f == k), "inst_strict": f / k,
             "inst_loose": f / k, "n_instructions": float(k)} for i, (f, k) in enumerate(zip(followed, n_instr))]
    items = pd.DataFrame(rows)
    prompt, inst = float(items["prompt_strict"].mean()), float(followed.sum() / n_instr.sum())
    metrics = {f"ifeval/{m}": {"value": v, "ci_low": None, "ci_high": None, "n": len(rows)}
               for m, v in (("prompt_strict", prompt), ("prompt_loose", prompt), ("inst_strict", inst),
                            ("inst_loose", inst))}
    (path / "metrics.json").write_text(json.dumps(metrics))
    items.to_parquet(path / "items.parquet")
    (path / "DONE").write_text("")
    return path


def _runs(tmp_path, prompts: int, lost: int, gained: int):
    """Base passes 20% of prompts; the trained model loses `lost` of them and gains `gained` others."""
    rng = np.random.default_rng(0)
    n_instr = rng.integers(1, 4, prompts)
    base_pass = np.zeros(prompts, bool)
    base_pass[: prompts // 5] = True
    new_pass = base_pass.copy()
    new_pass[:lost] = False
    new_pass[prompts // 5: prompts // 5 + gained] = True
    partial = np.maximum(n_instr - 1, 0)  # a failed prompt still follows all but one of its instructions
    base = np.where(base_pass, n_instr, partial)
    new = np.where(new_pass, n_instr, partial)
    return {"base": _eval_folder(tmp_path / f"base{prompts}-{lost}-{gained}", base, n_instr),
            "dpo-seed0": _eval_folder(tmp_path / f"new{prompts}-{lost}-{gained}", new, n_instr)}


def test_a_real_gain_is_significant_and_a_wash_is_not(tmp_path, capsys):
    from statsmodels.stats.contingency_tables import mcnemar  # an outside reference for the exact p-value

    gain = ifeval_report(_runs(tmp_path, 300, lost=6, gained=36))
    wash = ifeval_report(_runs(tmp_path, 300, lost=15, gained=15))
    for report, lost, gained in ((gain, 6, 36), (wash, 15, 15)):
        rows = report["gain_vs_base"]["dpo-seed0"]["metrics"]
        assert set(rows) == set(METRICS) and report["prompts"] == 300
        strict = rows["ifeval/prompt_strict"]
        assert strict["test"] == "mcnemar_exact" and rows["ifeval/inst_strict"]["test"].startswith("sign_flip")
        assert strict["discordant"] == [lost, gained]
        assert strict["diff"] == pytest.approx((gained - lost) / 300)
        reference = mcnemar([[0, gained], [lost, 0]], exact=True).pvalue
        assert strict["p_value"] == pytest.approx(reference, rel=1e-9)
        # The MDE is compare's: from the discordant counts through evaluate/power.py.
        assert strict["mde"] == pytest.approx(minimum_detectable_effect(spread_of_discordance(lost, gained, 300)))
        assert 0 < strict["mde"] < 0.2 and strict["p_holm"] >= strict["p_value"]
    assert gain["gain_vs_base"]["dpo-seed0"]["metrics"]["ifeval/prompt_strict"]["p_value"] < 1e-5
    assert gain["gain_vs_base"]["dpo-seed0"]["metrics"]["ifeval/prompt_strict"]["verdict"] == "improved"
    assert gain["gain_vs_base"]["dpo-seed0"]["metrics"]["ifeval/inst_strict"]["diff"] > 0
    wash_strict = wash["gain_vs_base"]["dpo-seed0"]["metrics"]["ifeval/prompt_strict"]
    assert wash_strict["p_value"] == pytest.approx(1.0) and wash_strict["verdict"] == "no significant change"
    assert gain["accuracy"]["base"]["ifeval/prompt_strict"]["value"] == pytest.approx(0.2)
    assert gain["accuracy"]["dpo-seed0"]["ifeval/prompt_strict"]["value"] == pytest.approx(0.3)
    print_ifeval(wash, 541)
    out = capsys.readouterr().out
    assert "first 300 of 541 prompts" in out and "MDE ±" in out and "no significant change" in out


def test_a_smaller_slice_detects_only_larger_effects(tmp_path):
    """Same discordance rate (10%), a quarter of the prompts: the MDE about doubles."""
    big = ifeval_report(_runs(tmp_path, 400, lost=20, gained=20))["gain_vs_base"]["dpo-seed0"]["metrics"]
    small = ifeval_report(_runs(tmp_path, 100, lost=5, gained=5))["gain_vs_base"]["dpo-seed0"]["metrics"]
    ratio = small["ifeval/prompt_strict"]["mde"] / big["ifeval/prompt_strict"]["mde"]
    assert 1.8 < ratio < 2.3


def test_a_one_prompt_slice_is_reported_as_not_tested(tmp_path, capsys):
    report = ifeval_report(_runs(tmp_path, 1, lost=0, gained=1))
    assert "metrics" not in report["gain_vs_base"]["dpo-seed0"]
    assert "not tested" in report["gain_vs_base"]["dpo-seed0"]["note"]
    print_ifeval(report)
    assert "not tested" in capsys.readouterr().out
    three = ifeval_report(_runs(tmp_path, 3, lost=0, gained=1))
    assert three["gain_vs_base"]["dpo-seed0"]["metrics"]["ifeval/prompt_strict"]["mde"] > 1
    print_ifeval(three)
    assert "too few prompts to detect any change" in capsys.readouterr().out


def test_the_slice_is_checked_before_any_work(tmp_path, shared_data, monkeypatch):
    official = shared_data / "ifeval" / "input_data.jsonl"
    assert resolve_ifeval_slice(0, str(official)) is None
    source, used, total = resolve_ifeval_slice(10_000, str(official))
    assert (used, total) == (541, 541) and source == str(official.resolve())
    assert resolve_ifeval_slice(3, str(official))[1] == 3
    with pytest.raises(ValueError, match="--ifeval-prompts must be 0"):
        resolve_ifeval_slice(-1, str(official))
    with pytest.raises(FileNotFoundError, match="absent.jsonl: no such file.*--ifeval-prompts 0"):
        resolve_ifeval_slice(3, str(tmp_path / "absent.jsonl"))
    monkeypatch.setenv("ALIGNSMITH_DATA", str(tmp_path))  # the default place, without the file
    with pytest.raises(FileNotFoundError, match=r"set \$ALIGNSMITH_DATA.*--ifeval-path FILE.*--ifeval-prompts 0"):
        resolve_ifeval_slice(3)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(official.read_text().splitlines()[0] + "\n" + json.dumps({"key": 2, "prompt": "Hi"}) + "\n")
    with pytest.raises(InputError, match=r"bad.jsonl:2.*instruction_id_list"):
        resolve_ifeval_slice(3, str(bad))
