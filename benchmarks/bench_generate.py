"""Generation throughput: bare vLLM vs `alignsmith generate` (local and Ray executors) vs transformers.

Same prompts (the first --prompts-n IFEval prompts), same model (SmolLM2-135M-Instruct), same sampling
(n, max_tokens, temperature, per-prompt seeds), one process. Reports tokens/s of wall time and tokens per
CPU-second of this process (steadier on a shared machine). Run from the repository root:

    OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false RAY_AUTH_MODE=disabled \
        .venv/bin/python benchmarks/bench_generate.py --json benchmarks/results/generate.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROMPTS = ROOT.parent / "shared" / "data" / "ifeval" / "input_data.jsonl"


class Timer:
    """Wall and process-CPU seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def record(results: list, name: str, tokens: int, timer: Timer, **extra) -> None:
    row = {"run": name, "tokens": tokens, "wall_s": round(timer.wall, 2), "cpu_s": round(timer.cpu, 2),
           "tok_per_s": round(tokens / timer.wall, 1), "tok_per_cpu_s": round(tokens / max(timer.cpu, 1e-9), 1),
           **extra}
    results.append(row)
    print(json.dumps(row), flush=True)


def bare_vllm(llm, tokenizer, rows, params) -> int:
    """vllm.LLM.generate on all prompts at once: the baseline alignsmith is measured against."""
    from vllm import SamplingParams

    from alignsmith.curate.backends.chat import render_prompt_ids, request_seed
    requests = [{"prompt_token_ids": render_prompt_ids(tokenizer, r["prompt"])} for r in rows]
    sampling = [SamplingParams(n=params.n, temperature=params.temperature, top_p=params.top_p,
                               max_tokens=params.max_tokens, seed=request_seed(params.seed, r["prompt"]))
                for r in rows]
    outputs = llm.generate(requests, sampling, use_tqdm=False)
    return sum(len(o.token_ids) for out in outputs for o in out.outputs)


def per_shard_vllm(llm, tokenizer, rows, params, shard_size: int) -> int:
    """The first version's pattern: one blocking LLM.generate per shard (the engine drains at each tail)."""
    return sum(bare_vllm(llm, tokenizer, rows[i:i + shard_size], params) for i in range(0, len(rows), shard_size))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", default=str(DEFAULT_PROMPTS))
    ap.add_argument("--prompts-n", type=int, default=48)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--shard-size", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2, help="alternating bare / alignsmith runs")
    ap.add_argument("--hf-prompts", type=int, default=None, help="prompts for transformers (default: all)")
    ap.add_argument("--skip", action="append", default=[], choices=["hf", "ray", "per-shard"])
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")

    from alignsmith.curate.backends import get_backend
    from alignsmith.curate.generate.prompts import load_prompts
    from alignsmith.curate.generate.run import GenerateConfig, generate
    rows = load_prompts(args.prompts)[0][:args.prompts_n]
    config = GenerateConfig(prompts=args.prompts, model="smollm2-135m-instruct", backend="vllm", n=args.n,
                            max_tokens=args.max_tokens, temperature=0.8, top_p=0.95, seed=0,
                            shard_size=args.shard_size, backend_options={"max_model_len": 2048})
    params = config.params()
    results: list[dict] = []
    meta = {"prompts": len(rows), "n": args.n, "max_tokens": args.max_tokens, "shard_size": args.shard_size,
            "load_average": os.getloadavg()[0], "cpus": os.cpu_count()}
    print(json.dumps(meta), flush=True)

    with Timer() as t:
        backend = get_backend("vllm", config.model, max_model_len=2048)
    print(json.dumps({"vllm_load_s": round(t.wall, 1)}), flush=True)
    bare_vllm(backend.llm, backend.tokenizer, rows[:8], params)  # warm-up: first steps are slow
    work = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    for rep in range(args.repeats):
        with Timer() as t:
            tokens = bare_vllm(backend.llm, backend.tokenizer, rows, params)
        record(results, "bare vllm.LLM.generate (all prompts, one call)", tokens, t, repeat=rep)
        with Timer() as t:
            res = generate(config, out=str(work / f"local-{rep}"), prompt_rows=rows, backend=backend,
                           progress=False)
        record(results, f"alignsmith generate (local, shard {args.shard_size})", res.new_tokens, t, repeat=rep)
        if "per-shard" not in args.skip:
            with Timer() as t:
                tokens = per_shard_vllm(backend.llm, backend.tokenizer, rows, params, args.shard_size)
            record(results, f"one LLM.generate per shard of {args.shard_size} (first version)", tokens, t,
                   repeat=rep)
    backend.close()
    del backend

    if "ray" not in args.skip:
        landed: list[tuple[float, int]] = []  # (time, tokens) of each shard as the driver writes it

        def on_shard(k: int) -> None:
            from alignsmith.curate.core.datafiles import read_parquet
            from alignsmith.curate.generate.run import shard_path
            tokens = sum(r["completion_tokens"] for r in read_parquet(shard_path(work / "ray", k)))
            landed.append((time.perf_counter(), tokens))

        with Timer() as t:
            res = generate(config, out=str(work / "ray"), prompt_rows=rows, progress=False, executor="ray",
                           on_shard=on_shard, ray_options={"num_cpus": 2, "actors": 1, "cpus_per_actor": 1})
        record(results, "alignsmith generate --executor ray (2 CPUs, 1 vLLM actor), wall incl. Ray start and "
                        "the actor's engine load", res.new_tokens, t)
        if len(landed) > 1:  # steady state: tokens of shards 2..k over the time from the first to the last
            span = landed[-1][0] - landed[0][0]
            tokens = sum(tok for _, tok in landed[1:])
            results.append({"run": "ray executor, steady state (first to last shard)", "tokens": tokens,
                            "wall_s": round(span, 2), "tok_per_s": round(tokens / span, 1)})
            print(json.dumps(results[-1]), flush=True)

    if "hf" not in args.skip:
        hf_rows = rows[:args.hf_prompts] if args.hf_prompts else rows
        hf = get_backend("hf", config.model)
        with Timer() as t:
            out = hf.generate([r["prompt"] for r in hf_rows], params)
        record(results, f"transformers generate (HF backend, fp32, {len(hf_rows)} prompts)",
               sum(c.completion_tokens for comps in out for c in comps), t)

    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
