"""The results index stays correct while several eval jobs write runs at once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from alignsmith.evaluate.results import results_index
from alignsmith.train.cli import main


def _responses(shared_data, tmp_path, n=3):
    rows = [json.loads(x) for x in (shared_data / "ifeval/input_data.jsonl").read_text().splitlines()[:n]]
    path = tmp_path / "responses.jsonl"
    path.write_text("".join(json.dumps({"key": r["key"], "response": "A short answer."}) + "\n" for r in rows))
    return path


def test_concurrent_writers_and_reader(shared_data, tmp_path):
    responses = _responses(shared_data, tmp_path)
    env = {**os.environ, "ALIGNSMITH_DATA": str(shared_data), "ALIGNSMITH_RUNS": str(tmp_path / "runs"),
           "OMP_NUM_THREADS": "1"}
    cli = [sys.executable, "-m", "alignsmith.train.cli"]
    writers = [subprocess.Popen(cli + ["eval", "run", "--model", f"model-{i}", "--tasks", "ifeval", "--limit", "3",
                                       "--responses", str(responses)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for i in range(4)]
    # Read the index while the writers run: every listed run must be whole.
    seen_counts = []
    while any(w.poll() is None for w in writers):
        listing = subprocess.run(cli + ["runs", "ls", "--json"], env=env, capture_output=True, text=True)
        assert listing.returncode == 0, listing.stderr
        rows = [json.loads(x) for x in listing.stdout.splitlines()]
        assert all("error" not in r and r["metrics"]["ifeval/prompt_strict"] is not None for r in rows)
        seen_counts.append(len(rows))
        time.sleep(0.2)
    for w in writers:
        out, err = w.communicate()
        assert w.returncode == 0, err
    rows = results_index(tmp_path / "runs")
    assert sorted(r["model"] for r in rows) == [f"model-{i}" for i in range(4)]
    assert len({r["run"] for r in rows}) == 4
    assert seen_counts == sorted(seen_counts)  # runs only ever appear, complete


def test_runs_ls_skips_unfinished_and_reports_damaged(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))
    responses = _responses(shared_data, tmp_path)
    for name in ("a", "b", "c"):
        assert main(["eval", "run", "--model", name, "--tasks", "ifeval", "--limit", "3",
                     "--responses", str(responses)]) == 0
    import yaml
    by_model = {yaml.safe_load((p / "config.yaml").read_text())["model"]["model"]: p
                for p in (tmp_path / "runs" / "eval").iterdir()}
    (by_model["a"] / "DONE").unlink()                     # crashed / still running: not listed
    (by_model["b"] / "metrics.json").write_text("{not json")  # damaged: listed as an error, not hidden
    capsys.readouterr()
    assert main(["runs", "ls"]) == 0
    out = sorted(capsys.readouterr().out.splitlines(), key=lambda line: "ERROR" not in line)
    assert len(out) == 2
    assert "ERROR" in out[0] and by_model["b"].name in out[0]
    assert " c " in out[1] and "ifeval/prompt_strict=" in out[1]
