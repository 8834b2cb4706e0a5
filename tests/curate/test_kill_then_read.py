"""Issue 13 items 1 and 8 with real processes: a second generate on a busy --out is refused naming the
holder; after kill -9 the half-done run is refused as input, with the command that resumes it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alignsmith.train.cli import main

pytestmark = pytest.mark.slow


def test_busy_then_killed_generate_run_is_never_read_as_done(tiny_llama, tmp_path, capsys):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"Count to {i}."}) + "\n" for i in range(60)))
    out = tmp_path / "gen"
    args = ["generate", "--no-progress", "--backend", "hf", "--model", tiny_llama, "--prompts", str(prompts),
            "--n", "1", "--max-tokens", "48", "--shard-size", "1", "--out", str(out)]
    cli = str(Path(sys.executable).with_name("alignsmith"))
    log = (tmp_path / "first.log").open("w")
    proc = subprocess.Popen([cli, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None and not list(out.glob("candidates/shard-*.parquet")):
            time.sleep(0.2)
        assert proc.poll() is None, (tmp_path / "first.log").read_text()[-2000:]
        assert main(args) == 2  # a second writer on the same folder, while the first holds it
        err = capsys.readouterr().err
        assert f"in use by pid {proc.pid}" in err
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not (out / "DONE").exists()
    assert main(["curate", "--input", str(out), "--out", str(tmp_path / "cur")]) == 2
    err = capsys.readouterr().err
    assert "unfinished generate run" in err and "alignsmith generate --no-progress" in err
    assert not (tmp_path / "cur").exists()
