"""`--executor ray`: the shards of a generate run on Ray Data, one engine per actor.

Each shard is one Ray Data row; an actor pool (one loaded engine per actor, via `map_batches` with a
class) streams the prompts of `shards_per_call` shards at a time through its engine and yields each shard's
candidate rows as it completes; the driver writes each shard as it arrives, through the same ShardSink as
the local executor. Per-prompt seeds make the content identical to a local
run. On a cluster, every node needs alignsmith installed and the model path readable.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from .run import GenerateConfig, ShardSink, candidate_rows

# Passed to the actors' processes so they behave like the driver (thread counts, offline hub).
_FORWARDED_ENV = ("OMP_NUM_THREADS", "TOKENIZERS_PARALLELISM", "HF_HUB_OFFLINE", "ALIGNSMITH_CACHE",
                  "VLLM_CPU_KVCACHE_SPACE", "VLLM_RPC_BASE_PATH", "VLLM_CACHE_ROOT")


class ShardGenerator:
    """Ray Data actor: loads the backend once, then generates whole shards."""

    def __init__(self, config: dict):
        from ..backends import get_backend
        self.config = GenerateConfig(**config)
        self.backend = get_backend(self.config.backend, self.config.model, **self.config.backend_options)

    def __call__(self, batch: dict):
        """Stream the prompts of every shard in the batch through one engine; yield each shard as it ends.

        Several shards per call keep the engine's batch full across shard boundaries; yielding per shard
        lets the driver write each one as soon as it is complete.
        """
        chunks = {int(k): json.loads(text) for k, text in zip(batch["shard"], batch["prompts"])}
        order = [(k, j) for k, chunk in chunks.items() for j in range(len(chunk))]
        pending = {k: [None] * len(chunk) for k, chunk in chunks.items()}
        left = {k: len(chunk) for k, chunk in chunks.items()}
        prompts = (chunks[k][j]["prompt"] for k, j in order)
        for i, completions in self.backend.stream(prompts, self.config.params()):
            k, j = order[i]
            pending[k][j] = completions
            left[k] -= 1
            if left[k] == 0:
                # JSON text keeps Arrow from having to unify the nested row types across shards.
                rows = candidate_rows(chunks[k], pending.pop(k), self.config)
                yield {"shard": [k], "rows": [json.dumps(rows)]}


def init_ray(options: dict) -> bool:
    """Connect to `options["address"]` or start a local Ray; return True when this call started it."""
    import ray
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if ray.is_initialized():
        return False
    env = {k: os.environ[k] for k in _FORWARDED_ENV if k in os.environ}
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    runtime_env = {"env_vars": env}
    if options.get("address"):
        ray.init(address=options["address"], runtime_env=runtime_env, log_to_driver=False)
    else:
        ray.init(num_cpus=int(options.get("num_cpus") or 2), include_dashboard=False,
                 runtime_env=runtime_env, log_to_driver=False)
    return True


def run_shards_on_ray(config: GenerateConfig, run_dir: Path, chunks: list[list[dict]], todo: list[int],
                      done: int, progress: bool, on_shard, options: dict) -> tuple[int, float]:
    """Generate the `todo` shards on Ray actors; return (new tokens, wall seconds incl. actor start-up)."""
    import ray
    from ray.data import ActorPoolStrategy, DataContext

    started_here = init_ray(options)
    DataContext.get_current().enable_progress_bars = False  # our own bar counts prompts and tokens
    try:
        items = [{"shard": k, "prompts": json.dumps(chunks[k], default=str)} for k in todo]
        dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
            ShardGenerator, fn_constructor_kwargs={"config": asdict(config)},
            batch_size=int(options.get("shards_per_call") or 1),
            compute=ActorPoolStrategy(size=int(options.get("actors") or 1)),
            num_cpus=float(options.get("cpus_per_actor") or 1), num_gpus=float(options.get("gpus_per_actor") or 0))
        sink = ShardSink(run_dir, done + sum(len(chunks[k]) for k in todo), done, progress, on_shard)
        try:
            for row in dataset.iter_rows():
                rows = json.loads(row["rows"])
                sink.advance(len(chunks[int(row["shard"])]), sum(r["completion_tokens"] for r in rows))
                sink.write(int(row["shard"]), rows)
        finally:
            seconds = sink.close()
        return sink.new_tokens, seconds
    finally:
        if started_here:
            ray.shutdown()
