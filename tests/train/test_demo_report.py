"""The demo's closing statistics use compare's paired test (sign-flip permutation) and report the MDE."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from alignsmith.evaluate.paired_tests import sign_flip_test
from alignsmith.train.demo_report import demo_report


def _eval_folder(path, values):
    path.mkdir()
    (path / "config.yaml").write_text(yaml.safe_dump({"kind": "eval", "tasks": {"constraints": {"version": "1"}}}))
    (path / "metrics.json").write_text(json.dumps({}))
    rows = [{"task": "constraints", "item_id": f"i{i}", "prompt_id": f"p{i}", "sample": s, "inst_strict": v}
            for i, per_item in enumerate(values) for s, v in enumerate(per_item)]
    pd.DataFrame(rows).to_parquet(path / "items.parquet")
    (path / "DONE").write_text("")
    return path


def test_gain_uses_the_sign_flip_test(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 4, (16, 2)) / 3
    trained = np.clip(base + rng.integers(-1, 3, (16, 2)) / 3, 0, 1)
    trained[3] = np.nan  # one prompt the trained model never answered: left out, and counted
    report = demo_report({"base": _eval_folder(tmp_path / "b", base), "dpo": _eval_folder(tmp_path / "d", trained)})
    gain = report["gain_vs_base"]["dpo"]
    keep = np.arange(16) != 3
    expected = sign_flip_test(base.mean(axis=1)[keep], trained.mean(axis=1)[keep])
    assert gain["test"] == "sign_flip_mc" and gain["prompts"] == 15 and gain["prompts_missing"] == 1
    # Monte-Carlo p-values (2^15 sign patterns > the exact limit): the item order differs, so allow MC error.
    assert gain["p_value"] == pytest.approx(expected.p_value, abs=0.03) and gain["diff"] == pytest.approx(expected.diff)
    assert gain["mde"] > 0


def test_one_prompt_is_reported_as_not_tested(tmp_path):
    report = demo_report({"base": _eval_folder(tmp_path / "b", [[0.5]]), "dpo": _eval_folder(tmp_path / "d", [[1.0]])})
    gain = report["gain_vs_base"]["dpo"]
    assert gain["diff"] is None and "only 1 shared item" in gain["note"]
