"""The openai backend against a real local vLLM OpenAI-compatible server serving SmolLM2."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from alignsmith.curate.core.hardware import resolve_dtype
from alignsmith.curate.generate.run import load_candidates
from alignsmith.train.cli import main

pytestmark = pytest.mark.slow

SERVED_NAME = "smollm2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    import requests
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"vLLM server exited with {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    pytest.fail(f"vLLM server not healthy after {timeout:.0f} s: {log.read_text()[-3000:]}")


@pytest.fixture
def vllm_server(smollm2, tmp_path):
    # A short folder: vLLM's ZMQ IPC sockets live under it, and socket paths must stay under 107 bytes.
    work = Path(tempfile.mkdtemp(prefix="as-vllm-", dir="/tmp"))
    (work / "rpc").mkdir()
    port = free_port()
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_RPC_BASE_PATH": str(work / "rpc"),
           "VLLM_CACHE_ROOT": str(work / "cache"), "TMPDIR": str(work), "OMP_NUM_THREADS": "1"}
    log = tmp_path / "server.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", smollm2,
             "--served-model-name", SERVED_NAME, "--host", "127.0.0.1", "--port", str(port),
             "--dtype", resolve_dtype("auto"), "--enforce-eager", "--max-model-len", "1024"],
            env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", proc, log, timeout=400)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        # The server spawns an engine process in its own group: end the whole group we started.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def test_generate_through_local_vllm_server(vllm_server, tmp_path, capsys):
    prompts = tmp_path / "p.jsonl"
    texts = [f"Give one word that rhymes with {w}." for w in ("cat", "tree", "moon", "light", "stone")]
    prompts.write_text("".join(json.dumps({"prompt": t}) + "\n" for t in texts)
                       + json.dumps({"prompt": "word " * 1500}) + "\n")  # past the server's 1024 tokens
    out = tmp_path / "run"
    options = {"base_url": [vllm_server], "concurrency": 4, "timeout": 120, "max_retries": 2}
    code = main(["generate", "--no-progress", "--backend", "openai", "--model", SERVED_NAME, "--n", "2",
                 "--max-tokens", "16", "--shard-size", "2", "--prompts", str(prompts), "--out", str(out),
                 "--backend-options", json.dumps(options)])
    assert code == 0, capsys.readouterr().err[-2000:]
    assert "12 candidates for 6 prompts" in capsys.readouterr().out
    prompt_rows, rows = load_candidates(out)
    assert Counter(r["prompt_id"] for r in rows) == {p["prompt_id"]: 2 for p in prompt_rows}
    answered = [r for r in rows if r["prompt_id"] != prompt_rows[-1]["prompt_id"]]
    assert all(r["finish_reason"] in ("stop", "length") and r["response"].strip() for r in answered)
    assert all(0 < r["completion_tokens"] <= 16 and r["prompt_tokens"] > 0 for r in answered)
    skipped = [r for r in rows if r["prompt_id"] == prompt_rows[-1]["prompt_id"]]
    assert all(r["finish_reason"].startswith("skipped:") and r["response"] == "" for r in skipped)
    assert (out / "DONE").exists()
