"""--executor ray on a local Ray instance gives the same candidates as the local executor."""
from __future__ import annotations

import json

import pytest

from alignsmith.curate.generate.run import GenerateConfig, generate, load_candidates

pytestmark = pytest.mark.slow


def test_ray_executor_matches_local_executor(tiny_llama, tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"Tell me about topic {i}."}) + "\n" for i in range(5))
                       + json.dumps({"prompt": "word " * 700}) + "\n")  # longer than the 512-token context
    config = GenerateConfig(prompts=str(prompts), model=tiny_llama, backend="hf", n=2, max_tokens=5,
                            shard_size=2, seed=11)
    local = generate(config, out=str(tmp_path / "local"), progress=False)
    written = []
    on_ray = generate(config, out=str(tmp_path / "ray"), progress=False, executor="ray", on_shard=written.append,
                      ray_options={"num_cpus": 2, "actors": 1, "cpus_per_actor": 1,
                                   "shards_per_call": 2})
    assert sorted(written) == [0, 1, 2] and (tmp_path / "ray" / "DONE").exists()

    def content(run_dir):
        _, rows = load_candidates(run_dir)
        return sorted((r["candidate_id"], r["prompt_id"], r["response"], r["finish_reason"],
                       r["completion_tokens"]) for r in rows)

    assert content(on_ray.run_dir) == content(local.run_dir)
    assert on_ray.rows == 12 and on_ray.finish_reasons.get("skipped") == 2
