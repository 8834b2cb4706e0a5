"""`--executor ray`: the same filters and MinHash dedup on a local Ray instance give the local output."""
from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # starting Ray and its shuffle take ~30 s on 2 busy cores

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()


def corpus(n=240, seed=3):
    rng = random.Random(seed)
    words = ("river mountain bread engine planet violin garden winter coffee museum lantern harbor "
             "pencil thunder orchard silver meadow canyon").split()
    texts = [" ".join(rng.choices(words, k=rng.randint(8, 16))) for _ in range(n)]
    for k in range(0, n, 6):  # near-duplicates: casing, punctuation, one word changed
        t = texts[k].split()
        t[rng.randrange(len(t))] = rng.choice(words)
        texts[k + 1] = " ".join(t).upper() + "!"
    return texts


def test_minhash_pairs_on_ray_equal_local():
    from alignsmith.curate.dedup.minhash import MinHashConfig, near_duplicate_pairs
    from alignsmith.curate.pipeline.ray_executor import ray_minhash_pairs
    cfg = MinHashConfig(chunk_size=50)  # several blocks, so the shuffle really mixes them
    texts = corpus()
    local_pairs, local_sims, _ = near_duplicate_pairs(texts, cfg)
    ray_pairs, ray_sims = ray_minhash_pairs(texts, cfg)
    assert len(local_pairs) >= 35  # 40 planted
    assert np.array_equal(local_pairs, ray_pairs) and np.allclose(local_sims, ray_sims)


def test_curate_rows_ray_matches_local_and_dedup_command(tmp_path):
    from alignsmith.curate.pipeline.run import curate_rows
    from alignsmith.train.cli import main
    texts = corpus(120)
    rows = [{"prompt_id": f"p{i % 5}", "candidate_id": f"c{i}", "response": t, "finish_reason": "stop"}
            for i, t in enumerate(texts)]
    rows[3]["finish_reason"] = "length"
    rows[4]["response"] = "   "
    rows[7]["response"] = "ok <|im_end|>"
    steps = ["empty", "truncated", "leakage", {"filter": "repetition", "max_repeated_ngram_fraction": 0.5},
             {"filter": "dedup", "method": "minhash"}]
    local = curate_rows(rows, steps)
    on_ray = curate_rows(rows, steps, executor="ray")
    assert local[0] == on_ray[0]
    key = lambda r: r["candidate_id"]  # noqa: E731
    assert sorted(local[1], key=key) == sorted(on_ray[1], key=key)
    counts = lambda report: [(s["step"], s["rows_in"], s["dropped"], s["rows_after"])  # noqa: E731
                             for s in report["funnel"]]  # seconds differ run to run
    assert counts(local[2]) == counts(on_ray[2])
    assert all(s["seconds"] is not None and s["seconds"] >= 0 for s in on_ray[2]["funnel"])
    assert any(d["drop_reason"].startswith("dedup: ") for d in on_ray[1])

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)))
    for executor in ("local", "ray"):
        assert main(["curate", "dedup", "--input", str(src), "--method", "minhash", "--executor", executor,
                     "--out", str(tmp_path / executor)]) == 0
    for name in ("kept.jsonl", "dropped.jsonl"):
        assert (tmp_path / "local" / name).read_text() == (tmp_path / "ray" / name).read_text()
