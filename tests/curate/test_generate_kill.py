"""SIGKILL mid-run on the real SmolLM2 with vLLM, then rerun: exactly one set of n candidates per prompt."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from alignsmith.curate.generate.run import load_candidates

pytestmark = pytest.mark.slow


def _command(prompts: Path, out: Path) -> list[str]:
    # max_inflight=4 keeps shards finishing one after another, so there is a "mid-run" to kill in.
    return [sys.executable, "-m", "alignsmith.train.cli", "generate", "--no-progress", "--backend", "vllm",
            "--prompts", str(prompts), "--n", "2", "--max-tokens", "32", "--shard-size", "4", "--seed", "3",
            "--backend-options", json.dumps({"max_model_len": 1024, "max_inflight": 4}), "--out", str(out)]


def _env(vllm_dir: Path) -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
            "VLLM_RPC_BASE_PATH": str(vllm_dir / "rpc"), "VLLM_CACHE_ROOT": str(vllm_dir / "cache"),
            "TMPDIR": str(vllm_dir)}


@pytest.fixture
def vllm_dir():
    # Short on purpose: vLLM may put IPC sockets here, and socket paths must stay under 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="as-vllm-", dir="/tmp"))
    (path / "rpc").mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_sigkill_then_rerun_gives_one_set_per_prompt(smollm2, tmp_path, vllm_dir):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"Name one fact about the number {i}."}) + "\n"
                               for i in range(40)))
    out = tmp_path / "run"
    shards = out / "candidates"
    log = (tmp_path / "first.log").open("w")
    proc = subprocess.Popen(_command(prompts, out), env=_env(vllm_dir), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None and not list(shards.glob("shard-*.parquet")):
            time.sleep(0.2)
        assert proc.poll() is None, f"generate exited early: {(tmp_path / 'first.log').read_text()[-2000:]}"
        assert list(shards.glob("shard-*.parquet")), "no shard landed within 300 s"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    survivors = {p.name: p.stat().st_mtime_ns for p in shards.glob("shard-*.parquet")}
    assert not (out / "DONE").exists() and 1 <= len(survivors) < 10

    rerun = subprocess.run(_command(prompts, out), env=_env(vllm_dir), capture_output=True, text=True,
                           timeout=400)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert (out / "DONE").exists() and "80 candidates for 40 prompts" in rerun.stdout
    # shards that survived the kill were kept, not regenerated
    assert {n: (shards / n).stat().st_mtime_ns for n in survivors} == survivors
    prompt_rows, rows = load_candidates(out)
    assert len(prompt_rows) == 40 and len(rows) == 80
    assert Counter(r["prompt_id"] for r in rows) == {p["prompt_id"]: 2 for p in prompt_rows}
    assert len({r["candidate_id"] for r in rows}) == 80
    assert all(r["finish_reason"] in ("stop", "length") and r["completion_tokens"] > 0 for r in rows)
    assert not list(shards.glob(".*"))  # no temporary files left behind
