"""`generate`: n candidates per prompt, written in shards as they finish, resumable after a crash.

Shard k holds the candidates of prompts [k*shard_size, (k+1)*shard_size) in input order. The engine is
fed one continuous stream of prompts (so it never idles at a shard's tail) and a shard file is written,
atomically, as soon as its last prompt finishes. After a kill the finished shards stay and a rerun redoes
only the missing ones; per-prompt seeds make the redone shards the same as an uninterrupted run.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ..backends.base import Completion, GenParams
from ..core.config import option
from ..core.datafiles import read_parquet, write_parquet
from ..core.models import EMBEDDED_MODEL
from ..core.records import candidate_id, stable_hash
from ..core.registry import load_object
from ..core.runs import RunFolder, metric
from .prompts import load_prompts

CANDIDATES_DIR = "candidates"
EXECUTORS = ("local", "ray")
# The Ray executor by name, imported on first use: it builds on this module, so this one never imports it.
RAY_SHARD_RUNNER = "alignsmith.curate.generate.ray:run_shards_on_ray"
# backend_options that say how to reach an engine, not what it computes: kept out of the run's config
# (so a resumed run may use other servers) and never written to disk (api_key).
TRANSPORT_OPTIONS = ("base_url", "api_key", "concurrency", "max_retries", "timeout", "backoff",
                     "max_inflight", "workdir")


@dataclass
class GenerateConfig:
    """What to generate. Every field is a CLI flag of `alignsmith generate`."""

    prompts: str = option("prompts file: JSONL/JSON/CSV/Parquet with a `prompt` (text or chat messages)", "")
    model: str = option("model name (e.g. smollm2-135m-instruct) or a local HF folder; for --backend openai, "
                        "the served model name", EMBEDDED_MODEL)
    backend: str = option("engine: vllm (in-process), hf (transformers) or openai (HTTP servers)", "vllm")
    n: int = option("candidates sampled per prompt", 4)
    temperature: float = option("sampling temperature (0 = greedy)", 0.8)
    top_p: float = option("nucleus sampling: draw only from the likeliest tokens holding this probability mass; "
                          "0 < top_p <= 1 (1: off)", 0.95)
    max_tokens: int = option("most new tokens per candidate", 256)
    seed: int = option("run seed; each prompt's seed derives from it and the prompt text", 0)
    stop: list[str] = option("stop string (repeat the flag for several)", factory=list)
    shard_size: int = option("prompts per output shard: the unit of resume (a kill loses at most the "
                             "unfinished shards)", 256)
    quarantine: bool = option("keep going past bad prompt rows, recording them in quarantine.parquet", False)
    backend_options: dict = option("JSON object of backend options, e.g. '{\"base_url\": [\"http://h1:8000/v1\"], "
                                   "\"concurrency\": 32}' or '{\"max_model_len\": 1024}'", factory=dict)

    def params(self) -> GenParams:
        """The sampling parameters backends receive."""
        return GenParams(n=self.n, temperature=self.temperature, top_p=self.top_p,
                         max_tokens=self.max_tokens, seed=self.seed, stop=list(self.stop))

    def validate(self) -> None:
        """Raise ValueError naming the flag when a value cannot work."""
        from ..backends.base import check_backend_name
        if not self.prompts:
            raise ValueError("--prompts PATH is required (JSONL/CSV/Parquet with a `prompt` field)")
        check_backend_name(self.backend)
        for name, low in (("n", 1), ("max_tokens", 1), ("shard_size", 1)):
            if getattr(self, name) < low:
                raise ValueError(f"--{name.replace('_', '-')} must be at least {low}, got {getattr(self, name)}")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError(f"need --temperature >= 0 and 0 < --top-p <= 1 "
                             f"(got {self.temperature}, {self.top_p})")

    def recorded(self) -> dict:
        """The config as stored in config.yaml (transport options and secrets left out)."""
        data = asdict(self)
        data["backend_options"] = {k: v for k, v in self.backend_options.items() if k not in TRANSPORT_OPTIONS}
        return data


@dataclass
class GenerateResult:
    """What a generate run wrote."""

    run_dir: Path
    rows: int
    prompts: int
    completion_tokens: int
    seconds: float
    finish_reasons: dict
    new_tokens: int = 0          # tokens generated in this call (the rest came from earlier, resumed calls)
    generate_seconds: float = 0  # time spent generating in this call (model loading excluded)
    quarantined: int = 0         # prompt rows set aside (bad or repeated), listed in quarantine.parquet

    @property
    def tokens_per_second(self) -> float | None:
        """Generation throughput of this call, or None when it generated nothing."""
        return self.new_tokens / self.generate_seconds if self.new_tokens and self.generate_seconds else None

    def summary(self) -> str:
        """Short human summary: rows, tokens, tokens/s and finish reasons."""
        rate = self.tokens_per_second
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.finish_reasons.items()))
        speed = (f"{self.new_tokens} new in {self.generate_seconds:.1f} s = {rate:.0f} tok/s"
                 if rate else "nothing new: all shards were already done")
        set_aside = (f"\n  {self.quarantined} prompt row(s) set aside (bad or repeated), each with its line and "
                     f"reason in {self.run_dir}/quarantine.parquet" if self.quarantined else "")
        return (f"generate: {self.rows} candidates for {self.prompts} prompts, {self.completion_tokens} tokens "
                f"({speed}); finish reasons: {reasons or 'none'}\n"
                f"  wrote {self.run_dir}/{CANDIDATES_DIR}/*.parquet, prompts.parquet, metrics.json{set_aside}")


def candidate_rows(prompt_rows: list[dict], completions: list[list[Completion]], config: GenerateConfig) -> list[dict]:
    """Candidate rows for a chunk of prompts (DESIGN.md candidate schema)."""
    gen_params = config.params().to_dict()
    rows = []
    for prow, comps in zip(prompt_rows, completions):
        if len(comps) != config.n:
            raise RuntimeError(f"backend returned {len(comps)} completions for prompt {prow['prompt_id']}, "
                               f"expected n={config.n}")
        for i, c in enumerate(comps):
            rows.append({"prompt_id": prow["prompt_id"],
                         "candidate_id": candidate_id(prow["prompt_id"], i, config.model, config.seed),
                         "response": c.text, "model": config.model, "gen_params": gen_params,
                         "finish_reason": c.finish_reason, "prompt_tokens": c.prompt_tokens,
                         "completion_tokens": c.completion_tokens})
    return rows


def shard_path(run_dir: Path, k: int) -> Path:
    """Where shard k of a run lives."""
    return Path(run_dir) / CANDIDATES_DIR / f"shard-{k:05d}.parquet"


class ShardSink:
    """Writes finished shards and keeps the progress bar (prompts done, tokens/s, ETA) up to date."""

    def __init__(self, run_dir: Path, total: int, done: int, progress: bool,
                 on_shard: Callable[[int], None] | None):
        from tqdm import tqdm
        self.run_dir, self.on_shard = run_dir, on_shard
        self.new_tokens, self.started = 0, time.time()
        self.bar = tqdm(total=total, initial=done, unit="prompt", desc="generate", disable=not progress,
                        dynamic_ncols=True)

    def prompt_done(self, completions: list[Completion]) -> None:
        """Count one finished prompt."""
        self.advance(1, sum(c.completion_tokens for c in completions))

    def advance(self, prompts: int, tokens: int) -> None:
        """Count finished prompts and the tokens they produced."""
        self.new_tokens += tokens
        self.bar.update(prompts)
        elapsed = max(time.time() - self.started, 1e-9)
        self.bar.set_postfix_str(f"{self.new_tokens / elapsed:.0f} tok/s", refresh=False)

    def write(self, k: int, rows: list[dict]) -> None:
        """Write shard k atomically (a crash never leaves a half shard that looks whole)."""
        write_parquet(shard_path(self.run_dir, k), rows)
        if self.on_shard:
            self.on_shard(k)

    def close(self) -> float:
        """Close the bar; return seconds since the sink started."""
        self.bar.close()
        return time.time() - self.started


def open_generate_run(config: GenerateConfig, prompt_rows: list[dict], quarantined: list[dict],
                      out: str | None) -> RunFolder:
    """Create or resume the run folder; a folder made by another config or prompt set is refused."""
    fingerprint = stable_hash([r["prompt_id"] for r in prompt_rows])
    # RunConflictError lists the fields that differ from the folder's config.
    run = RunFolder.open("generate", {**config.recorded(), "prompts_fingerprint": fingerprint}, out=out)
    if not run.file("prompts.parquet").exists():
        if quarantined:
            # The bad rows' shapes differ from row to row, so each is kept as its JSON text.
            run.write_rows("quarantine", [{"line": q["line"], "row": json.dumps(q["row"], default=str),
                                           "drop_reason": q["drop_reason"]} for q in quarantined])
        run.write_rows("prompts", prompt_rows)
    return run


def generate(config: GenerateConfig, out: str | None = None, prompt_rows: list[dict] | None = None,
             backend=None, progress: bool = True, on_shard: Callable[[int], None] | None = None,
             executor: str = "local", ray_options: dict | None = None) -> GenerateResult:
    """Generate candidates into a run folder (resuming one made by the same config); return what was written.

    `prompt_rows` overrides reading `config.prompts`; `backend` reuses an already-loaded engine (local
    executor). `executor="ray"` runs the shards on Ray Data actors (see generate_ray.run_shards_on_ray).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    quarantined: list[dict] = []
    if prompt_rows is None:
        config.validate()
        prompt_rows, quarantined = load_prompts(config.prompts, quarantine=config.quarantine)
    repeated = [pid for pid, c in Counter(r["prompt_id"] for r in prompt_rows).items() if c > 1]
    if repeated:  # candidate ids derive from prompt ids: a repeat would give two sets under the same ids
        raise ValueError(f"{len(repeated)} prompt_id(s) occur more than once, e.g. {repeated[0]}; "
                         "pass each prompt once (load_prompts drops repeats into quarantine)")
    if backend is None and config.backend in ("vllm", "hf"):
        from ..core.models import resolve_model
        resolve_model(config.model)  # a missing model fails here, listing the paths tried, before any folder
    run = open_generate_run(config, prompt_rows, quarantined, out)
    chunks = [prompt_rows[i:i + config.shard_size] for i in range(0, len(prompt_rows), config.shard_size)]
    todo = [k for k in range(len(chunks)) if not shard_path(run.path, k).exists()]
    for stale in (run.path / CANDIDATES_DIR).glob(".shard-*.tmp"):  # half-written by a killed run
        stale.unlink(missing_ok=True)
    start, new_tokens, gen_seconds = time.time(), 0, 0.0
    if todo:
        done = len(prompt_rows) - sum(len(chunks[k]) for k in todo)
        if executor == "ray":
            run_shards_on_ray = load_object(RAY_SHARD_RUNNER)
            new_tokens, gen_seconds = run_shards_on_ray(config, run.path, chunks, todo, done, progress,
                                                        on_shard, ray_options or {})
        else:
            new_tokens, gen_seconds = _run_local(config, run.path, chunks, todo, done, backend, progress,
                                                 on_shard)
    return _finish(run, len(prompt_rows), time.time() - start, new_tokens, gen_seconds)


def _run_local(config: GenerateConfig, run_dir: Path, chunks: list[list[dict]], todo: list[int], done: int,
               backend, progress: bool, on_shard) -> tuple[int, float]:
    owned = backend is None
    if owned:
        from ..backends import get_backend
        backend = get_backend(config.backend, config.model, **config.backend_options)
    total = done + sum(len(chunks[k]) for k in todo)
    sink = ShardSink(run_dir, total, done, progress, on_shard)
    try:
        order = [(k, j) for k in todo for j in range(len(chunks[k]))]
        pending = {k: [None] * len(chunks[k]) for k in todo}
        left = {k: len(chunks[k]) for k in todo}
        prompts = (chunks[k][j]["prompt"] for k, j in order)
        for i, comps in backend.stream(prompts, config.params()):
            k, j = order[i]
            pending[k][j] = comps
            sink.prompt_done(comps)
            left[k] -= 1
            if left[k] == 0:
                sink.write(k, candidate_rows(chunks[k], pending.pop(k), config))
    finally:
        seconds = sink.close()
        if owned:
            backend.close()
    return sink.new_tokens, seconds


def _finish(run: RunFolder, n_prompts: int, seconds: float, new_tokens: int, gen_seconds: float) -> GenerateResult:
    rows = read_parquet(run.path / CANDIDATES_DIR)
    reasons = Counter(r["finish_reason"].split(":")[0] for r in rows)
    tokens = sum(r["completion_tokens"] for r in rows)
    set_aside = len(read_parquet(run.file("quarantine.parquet"))) if run.file("quarantine.parquet").exists() else 0
    result = GenerateResult(run.path, len(rows), n_prompts, tokens, seconds, dict(reasons), new_tokens,
                            gen_seconds, set_aside)
    metrics = {
        "candidates": metric(len(rows), higher_is_better=None, n=len(rows)),
        "completion_tokens": metric(tokens, higher_is_better=None, n=len(rows)),
        **{f"finish_{k}": metric(v / max(len(rows), 1), higher_is_better=None, n=len(rows))
           for k, v in reasons.items()},
    }
    # Keep the throughput of the call that generated most, so a no-op rerun does not erase it.
    old = run.read_metrics().get("tokens_per_second")
    metrics["tokens_per_second"] = (metric(result.tokens_per_second, higher_is_better=True)
                                    if result.tokens_per_second or not old else old)
    run.write_metrics(metrics)
    run.mark_done()
    return result


def load_candidates(run_dir: str | Path) -> tuple[list[dict], list[dict]]:
    """(prompt rows, candidate rows) of a generate run folder."""
    run_dir = Path(run_dir)
    return read_parquet(run_dir / "prompts.parquet"), read_parquet(run_dir / CANDIDATES_DIR)
