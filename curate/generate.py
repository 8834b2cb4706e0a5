"""`generate`: n candidates per prompt, written in shards as they finish, resumable after a crash.

Shard k holds the candidates of prompts [k*shard_size, (k+1)*shard_size) in input order. A shard file is
written atomically, so after a kill the finished shards stay and a rerun redoes only the missing ones.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .backends.base import Completion, GenParams
from .datafiles import read_parquet, write_parquet
from .models import EMBEDDED_MODEL
from .prompts import load_prompts
from .records import candidate_id, stable_hash
from .runs import RunFolder, metric

CANDIDATES_DIR = "candidates"


@dataclass
class GenerateConfig:
    """What to generate. Every field is a CLI flag of `alignsmith generate`."""

    prompts: str = ""
    model: str = EMBEDDED_MODEL
    backend: str = "vllm"
    n: int = 4
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int = 0
    stop: list[str] = field(default_factory=list)
    shard_size: int = 64
    quarantine: bool = False
    backend_options: dict = field(default_factory=dict)

    def params(self) -> GenParams:
        return GenParams(n=self.n, temperature=self.temperature, top_p=self.top_p,
                         max_tokens=self.max_tokens, seed=self.seed, stop=list(self.stop))


@dataclass
class GenerateResult:
    """What a generate run wrote."""

    run_dir: Path
    rows: int
    prompts: int
    completion_tokens: int
    seconds: float
    finish_reasons: dict

    def summary(self) -> str:
        rate = self.completion_tokens / self.seconds if self.seconds else 0.0
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.finish_reasons.items()))
        return (f"generate: {self.rows} candidates for {self.prompts} prompts, {self.completion_tokens} tokens "
                f"in {self.seconds:.0f} s ({rate:.0f} tok/s this session); finish reasons: {reasons}\n"
                f"  wrote {self.run_dir}/{CANDIDATES_DIR}/*.parquet, prompts.parquet, metrics.json")


def candidate_rows(prompt_rows: list[dict], completions: list[list[Completion]], config: GenerateConfig) -> list[dict]:
    """Candidate rows for a chunk of prompts (DESIGN.md candidate schema)."""
    gen_params = config.params().to_dict()
    rows = []
    for prow, comps in zip(prompt_rows, completions):
        for i, c in enumerate(comps):
            rows.append({"prompt_id": prow["prompt_id"],
                         "candidate_id": candidate_id(prow["prompt_id"], i, config.model, config.seed),
                         "response": c.text, "model": config.model, "gen_params": gen_params,
                         "finish_reason": c.finish_reason, "prompt_tokens": c.prompt_tokens,
                         "completion_tokens": c.completion_tokens})
    return rows


def _shard_path(run: RunFolder, k: int) -> Path:
    return run.path / CANDIDATES_DIR / f"shard-{k:05d}.parquet"


def generate(config: GenerateConfig, out: str | None = None, prompt_rows: list[dict] | None = None,
             backend=None, progress: bool = True,
             on_shard: Callable[[int], None] | None = None) -> GenerateResult:
    """Generate candidates into a run folder (resuming one made by the same config); return what was written.

    `prompt_rows` overrides reading `config.prompts`; `backend` reuses an already-loaded engine.
    """
    quarantined: list[dict] = []
    if prompt_rows is None:
        prompt_rows, quarantined = load_prompts(config.prompts, quarantine=config.quarantine)
    fingerprint = stable_hash([r["prompt_id"] for r in prompt_rows])
    run = RunFolder.open("generate", {**asdict(config), "prompts_fingerprint": fingerprint}, out=out)
    if not run.file("prompts.parquet").exists():
        run.write_rows("prompts", prompt_rows)
        if quarantined:
            run.write_rows("quarantine", quarantined)
    chunks = [prompt_rows[i:i + config.shard_size] for i in range(0, len(prompt_rows), config.shard_size)]
    todo = [k for k in range(len(chunks)) if not _shard_path(run, k).exists()]
    start, new_tokens = time.time(), 0
    if todo:
        from tqdm import tqdm
        owned = backend is None
        if owned:
            from .backends import get_backend
            backend = get_backend(config.backend, config.model, **config.backend_options)
        bar = tqdm(total=len(prompt_rows), initial=len(prompt_rows) - sum(len(chunks[k]) for k in todo),
                   unit="prompt", desc="generate", disable=not progress)
        try:
            for k in todo:
                chunk = chunks[k]
                comps = backend.generate([r["prompt"] for r in chunk], config.params())
                rows = candidate_rows(chunk, comps, config)
                write_parquet(_shard_path(run, k), rows)
                new_tokens += sum(r["completion_tokens"] for r in rows)
                bar.update(len(chunk))
                bar.set_postfix(tok_s=f"{new_tokens / max(time.time() - start, 1e-9):.0f}")
                if on_shard:
                    on_shard(k)
        finally:
            bar.close()
            if owned:
                backend.close()
    return _finish(run, len(prompt_rows), time.time() - start, new_tokens)


def _finish(run: RunFolder, n_prompts: int, seconds: float, new_tokens: int) -> GenerateResult:
    rows = read_parquet(run.path / CANDIDATES_DIR)
    reasons = Counter(r["finish_reason"].split(":")[0] for r in rows)
    tokens = sum(r["completion_tokens"] for r in rows)
    rate = new_tokens / seconds if seconds > 0 and new_tokens else None
    run.write_metrics({
        "candidates": metric(len(rows), higher_is_better=None, n=len(rows)),
        "completion_tokens": metric(tokens, higher_is_better=None, n=len(rows)),
        "tokens_per_second": metric(rate, higher_is_better=True),
        **{f"finish_{k}": metric(v / max(len(rows), 1), higher_is_better=None, n=len(rows))
           for k, v in reasons.items()},
    })
    run.mark_done()
    return GenerateResult(run.path, len(rows), n_prompts, tokens, seconds, dict(reasons))


def load_candidates(run_dir: str | Path) -> tuple[list[dict], list[dict]]:
    """(prompt rows, candidate rows) of a generate run folder."""
    run_dir = Path(run_dir)
    return read_parquet(run_dir / "prompts.parquet"), read_parquet(run_dir / CANDIDATES_DIR)
