"""The main job, end to end on real parts at a tiny size: vLLM + SmolLM2 → checks → pairs → LoRA-DPO → eval."""
import json

import pytest


@pytest.mark.slow
def test_demo_runs_every_stage_and_writes_a_summary(tmp_path, monkeypatch, smollm2, shared_data, capsys):
    from alignsmith.evaluate.results import load_eval_run
    from alignsmith.train.demo import DemoConfig, run_demo
    monkeypatch.setenv("ALIGNSMITH_RUNS", str(tmp_path / "runs"))
    config = DemoConfig(train_prompts=8, eval_prompts=3, n=6, max_tokens=64, seeds=[0], steps=2,
                        batch_size=2, eval_samples=2, ifeval_prompts=3,
                        ifeval_path=str(shared_data / "ifeval" / "input_data.jsonl"))
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
    # The official-IFEval slice: greedy, 384 tokens, one answer per prompt, each seed compared with base.
    assert set(summary["ifeval_eval_runs"]) == {"base", "dpo-seed0"}
    for path in summary["ifeval_eval_runs"].values():
        run = load_eval_run(path)
        assert len(run.items) == 3 and set(run.items["task"]) == {"ifeval"}
        assert run.config["decoding"]["temperature"] == 0.0 and run.config["decoding"]["max_tokens"] == 384
    ifeval = summary["report"]["ifeval"]
    assert ifeval["prompts"] == 3 and ifeval["prompts_in_source"] == 541
    gain = ifeval["gain_vs_base"]["dpo-seed0"]
    # Three prompts may leave a metric untestable; whatever is tested carries compare's p and MDE.
    tested = [r for r in gain.get("metrics", {}).values() if r["diff"] is not None]
    assert tested or "not tested" in gain.get("note", "")
    for r in tested:
        assert 0.0 <= r["p_value"] <= 1.0
        # McNemar always has a spread (half counts added); a sign-flip metric has none only when nothing moved.
        if r["test"] == "mcnemar_exact" or r["verdict"] != "no change on any item":
            assert r["mde"] > 0
    out = capsys.readouterr().out
    assert "alignsmith dashboard --runs" in out and "Win rate of trained over base" in out
    assert "Official IFEval, first 3 of 541 prompts" in out and "(dpo-seed0, IFEval)" in out
