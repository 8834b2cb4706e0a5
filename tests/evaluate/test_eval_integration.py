"""Integration: `eval run` on the real SmolLM2 with vLLM over a small slice of every task."""
from __future__ import annotations

import json

import pytest

from alignsmith.train.cli import main


@pytest.mark.slow
def test_eval_run_smollm2_vllm_all_tasks(smollm2, shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))
    try:
        from alignsmith.curate.safety import RefusalDetector  # noqa: F401
    except ImportError as e:  # the safety task needs the shared refusal detector
        pytest.skip(f"curate.safety.RefusalDetector is not available: {e}")
    out = tmp_path / "run"
    assert main(["eval", "run", "--model", smollm2, "--tasks", "ifeval,constraints,safety,winrate",
                 "--limit", "4", "--max-tokens", "48", "--out", str(out)]) == 0
    from alignsmith.evaluate.results import load_eval_run, results_index
    run = load_eval_run(out)
    assert run.items.groupby("task").size().to_dict() == {"ifeval": 4, "constraints": 4, "safety": 4, "winrate": 4}
    assert (run.items["response"].str.len() > 0).all()
    # Every task's per-item columns survive into items.parquet (not just the first task's).
    assert {"prompt_strict", "refused", "over_refusal", "win", "reference_response"} <= set(run.items.columns)
    assert run.items[run.items["task"] == "safety"]["safe_behaviour"].notna().all()
    assert set(run.items[run.items["task"] == "safety"]["subset"]) == {"advbench", "harmbench", "xstest_safe",
                                                                       "xstest_unsafe"}
    metrics = json.loads((out / "metrics.json").read_text())
    for name in ("ifeval/prompt_strict", "constraints/inst_loose", "safety/harmful_refusal", "safety/over_refusal",
                 "safety/unsafe_compliance", "winrate/win", "winrate/lc_win_rate"):
        assert metrics[name]["value"] is not None and 0.0 <= metrics[name]["value"] <= 1.0, name
    assert run.config["backend"] == "vllm" and run.config["decoding"]["temperature"] == 0.0
    assert run.config["tasks"]["winrate"]["options"]["judge"] == "llm"
    assert run.config["model"]["chat_template_sha256"]
    assert results_index() == [] or all(r["run"] != str(out) for r in results_index())  # --out is outside the root
    # The run gates against itself: exit 0.
    assert main(["compare", str(out), str(out), "--out", str(tmp_path / "cmp")]) == 0
