"""The main job, end to end on real parts at a tiny size: vLLM + SmolLM2 → checks → pairs → LoRA-DPO → eval."""
import json

import pytest


@pytest.mark.slow
def test_demo_runs_every_stage_and_writes_a_summary(tmp_path, monkeypatch, smollm2, capsys):
    from alignsmith.evaluate.results import load_eval_run
    from alignsmith.train.demo import DemoConfig, run_demo
    monkeypatch.setenv("ALIGNSMITH_RUNS", str(tmp_path / "runs"))
    config = DemoConfig(train_prompts=8, eval_prompts=3, n=6, max_tokens=64, seeds=[0], steps=2,
                        batch_size=2, eval_samples=2)
    folder = run_demo(config)
    summary = json.loads((folder / "summary.json").read_text())
    assert (folder / "DONE").exists()
    assert summary["pairs"]["pairs_out"] > 0
    assert set(summary["eval_runs"]) == {"base", "dpo-seed0"}
    for path in summary["eval_runs"].values():
        run = load_eval_run(path)
        assert len(run.items) == 3 * 2  # prompts × samples
    acc = summary["report"]["accuracy"]
    assert 0.0 <= acc["base"]["ci_low"] <= acc["base"]["value"] <= acc["base"]["ci_high"] <= 1.0
    out = capsys.readouterr().out
    assert "alignsmith dashboard --runs" in out and "Win rate of trained over base" in out
