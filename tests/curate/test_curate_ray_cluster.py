"""Issue 18 acceptance: `--executor ray` on a cluster of separate processes (`ray start --head` + one worker
node joining it) keeps and drops exactly the rows the local executor does, also when the worker node is
killed while it runs a task (its tasks are retried on the head; no row lost or duplicated)."""
from __future__ import annotations

import gzip
import json
import threading
import time

import pytest

pytestmark = pytest.mark.slow  # two Ray nodes start (~45 s) and the run is retried after the kill

ray = pytest.importorskip("ray")


def hh_rows(shared_data, n=1600):
    from alignsmith.curate.safety.training_data import hh_turns
    rows = []
    with gzip.open(shared_data / "hh_rlhf" / "helpful-base" / "test.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            turns = hh_turns(json.loads(line)["chosen"])
            if len(turns) >= 2:
                rows.append({"prompt_id": f"p{len(rows)}", "candidate_id": f"c{len(rows)}", "finish_reason": "stop",
                             "prompt": [{"role": "user", "content": turns[0][1]}], "response": turns[1][1]})
            if len(rows) >= n:
                break
    for k in range(0, n, 40):  # planted failures: exact duplicates, empties, truncations
        rows[k + 1] = {**rows[k], "candidate_id": rows[k + 1]["candidate_id"]}
        rows[k + 2]["response"] = "  "
        rows[k + 3]["finish_reason"] = "length"
    return rows


STEPS = ["empty", "truncated", "leakage", "repetition", {"filter": "language", "expected": "en"},
         {"filter": "dedup", "method": "minhash"}]


def test_cluster_matches_local_and_survives_losing_the_worker(shared_data, monkeypatch):
    from alignsmith.curate.pipeline.ray_cluster import LocalRayCluster
    from alignsmith.curate.pipeline.run import curate_rows
    rows = hh_rows(shared_data)
    kept_local, dropped_local, _ = curate_rows(rows, STEPS)
    assert dropped_local and kept_local
    killed = {}
    with LocalRayCluster(workers=1) as cluster:
        monkeypatch.setenv("RAY_ADDRESS", cluster.address)

        def kill_when_busy():
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not killed.get("done"):
                tasks = cluster.running_tasks(0)
                if tasks:
                    cluster.kill_worker(0)
                    killed["tasks"] = tasks
                    return
                time.sleep(0.05)

        watcher = threading.Thread(target=kill_when_busy, daemon=True)
        watcher.start()
        try:
            kept_ray, dropped_ray, report = curate_rows(rows, STEPS, executor="ray")
        finally:
            killed["done"] = True
            watcher.join(timeout=5)
            ray.shutdown()
    assert killed.get("tasks"), "the worker node never ran a task, so the kill test proved nothing"
    ids = [r["candidate_id"] for r in kept_ray] + [d["candidate_id"] for d in dropped_ray]
    assert sorted(ids) == sorted(r["candidate_id"] for r in rows)  # every row once: none lost, none twice
    assert [r["candidate_id"] for r in kept_ray] == [r["candidate_id"] for r in kept_local]
    by_id = lambda ds: {d["candidate_id"]: d["drop_reason"] for d in ds}  # noqa: E731
    assert by_id(dropped_ray) == by_id(dropped_local)
    assert report["rows_out"] == len(kept_local)
