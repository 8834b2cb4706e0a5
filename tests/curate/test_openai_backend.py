"""openai backend against a scripted local HTTP server: retries on 500/429/timeouts, round-robin, final error."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from alignsmith.curate.backends import GenParams, get_backend
from alignsmith.curate.backends.openai_backend import GenerationRequestError
from alignsmith.curate.core.records import prompt_id
from alignsmith.curate.generate.run import load_candidates, shard_path
from alignsmith.train.cli import main


class Script:
    """What the fake servers do, keyed by the prompt text; shared by both servers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempts: Counter = Counter()
        self.bodies: list[dict] = []
        self.broken = {"always-500"}

    def reply(self, body: dict) -> tuple[int, dict | None, float]:
        text = body["messages"][-1]["content"]
        with self.lock:
            self.attempts[text] += 1
            attempt = self.attempts[text]
            self.bodies.append(body)
        if text in self.broken:
            return 500, None, 0
        if text == "flaky-500" and attempt == 1:
            return 500, None, 0
        if text == "flaky-429" and attempt <= 2:
            return 429, None, 0
        if text == "slow" and attempt == 1:
            return 200, None, 1.0  # sleeps past the client's 0.3 s timeout
        n = body["n"]
        choices = [{"index": i, "message": {"role": "assistant", "content": f"re {text} #{i}"},
                    "finish_reason": "stop"} for i in range(n)]
        return 200, {"choices": choices, "usage": {"prompt_tokens": 5, "completion_tokens": 3 * n}}, 0


def start_server(script: Script) -> tuple[ThreadingHTTPServer, Counter]:
    hits: Counter = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            hits[self.path] += 1
            status, data, delay = script.reply(body)
            if delay:
                time.sleep(delay)
            payload = json.dumps(data or {"error": f"injected {status}"}).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout) before the reply

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hits


@pytest.fixture
def fleet():
    script = Script()
    servers = [start_server(script) for _ in range(2)]
    urls = [f"http://127.0.0.1:{s.server_address[1]}/v1" for s, _ in servers]
    yield script, urls, [hits for _, hits in servers]
    for server, _ in servers:
        server.shutdown()
        server.server_close()


FAST_RETRY = {"max_retries": 3, "backoff": 0.01, "timeout": 0.3, "concurrency": 4}


def test_retries_on_500_429_and_timeout_then_succeeds_round_robin(fleet):
    script, urls, hits = fleet
    backend = get_backend("openai", "served-model", base_url=urls, **FAST_RETRY)
    texts = ["plain-a", "flaky-500", "flaky-429", "slow", "plain-b", "plain-c"]
    try:
        out = backend.generate([[{"role": "user", "content": t}] for t in texts], GenParams(n=2, seed=5))
    finally:
        backend.close()
    assert [[c.text for c in comps] for comps in out] == [[f"re {t} #0", f"re {t} #1"] for t in texts]
    assert all(c.finish_reason == "stop" and c.completion_tokens == 3 for comps in out for c in comps)
    assert script.attempts["flaky-500"] == 2 and script.attempts["flaky-429"] == 3 and script.attempts["slow"] == 2
    assert script.attempts["plain-a"] == 1
    assert all(h["/v1/chat/completions"] >= 4 for h in hits)  # 10 attempts spread over both servers
    assert {b["model"] for b in script.bodies} == {"served-model"}
    # the per-prompt seed goes with every request, the same on a retry
    seeds = {b["seed"] for b in script.bodies if b["messages"][-1]["content"] == "slow"}
    assert len(seeds) == 1


def test_last_retry_error_names_prompt_and_finished_shards_stay(fleet, tmp_path, capsys):
    script, urls, _ = fleet
    texts = ["p0", "p1", "flaky-500", "p3", "always-500", "p5"]
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": t}) + "\n" for t in texts))
    out = tmp_path / "run"

    def run(base_url) -> int:
        options = {**FAST_RETRY, "concurrency": 2, "base_url": base_url}
        return main(["generate", "--no-progress", "--backend", "openai", "--model", "served-model",
                     "--prompts", str(prompts), "--n", "2", "--shard-size", "2", "--out", str(out),
                     "--backend-options", json.dumps(options)])

    assert run(urls) == 1
    err = capsys.readouterr().err
    bad_id = prompt_id("always-500")
    assert f"prompt {bad_id}" in err and "after 4 attempts" in err and "HTTP 500" in err
    assert "rerun the same command" in err
    assert shard_path(out, 0).exists() and shard_path(out, 1).exists() and not shard_path(out, 2).exists()
    assert not (out / "DONE").exists()
    before = {k: shard_path(out, k).stat().st_mtime_ns for k in (0, 1)}

    script.broken.clear()  # the server recovers; a rerun on one URL (transport options may change) completes
    assert run(urls[:1]) == 0
    assert (out / "DONE").exists()
    assert {k: shard_path(out, k).stat().st_mtime_ns for k in (0, 1)} == before
    prompt_rows, rows = load_candidates(out)
    assert Counter(r["prompt_id"] for r in rows) == {p["prompt_id"]: 2 for p in prompt_rows}
    assert sorted(r["response"] for r in rows if r["prompt_id"] == bad_id) == ["re always-500 #0",
                                                                               "re always-500 #1"]
    assert "api_key" not in Path(out / "config.yaml").read_text()


def test_non_retryable_status_fails_at_once(fleet):
    script, urls, _ = fleet
    backend = get_backend("openai", "m", base_url=urls[0], **FAST_RETRY)

    def reply(body):
        return 401, None, 0

    script.reply = reply
    with pytest.raises(GenerationRequestError, match=r"prompt p-\w+: request failed after 1 attempts.*HTTP 401"):
        backend.generate([[{"role": "user", "content": "x"}]], GenParams(n=1))
    backend.close()
