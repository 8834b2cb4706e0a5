"""Benchmark: the default eval suite (ifeval, constraints, safety, winrate) on SmolLM2 with vLLM on CPU.

Run from the repository root (data from ../shared/data or $ALIGNSMITH_DATA):

    OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false .venv/bin/python benchmarks/bench_eval_suite.py --limit 20

Prints one JSON object: the slice, seconds per phase (engine load + generation, scoring per task,
total) and the headline metrics. Nothing is asserted; results go to docs/benchmarks.md by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--tasks", default="ifeval,constraints,safety,winrate")
    parser.add_argument("--limit", type=int, default=20, help="items per task (first N)")
    parser.add_argument("--max-tokens", type=int, default=None, help="generation budget (default: per task)")
    parser.add_argument("--backend", default="vllm")
    parser.add_argument("--out", default=None, help="run folder (default: a temporary folder)")
    args = parser.parse_args()

    from alignsmith.evaluate.runner import EvalRunConfig, run_eval
    from alignsmith.evaluate.tasks import data_root
    # The IFEval verifiers need NLTK's punkt_tab; the shared data folder carries a copy.
    os.environ.setdefault("NLTK_DATA", str(data_root() / "nltk_data"))
    cfg = EvalRunConfig(model=args.model, tasks=args.tasks.split(","), limit=args.limit, backend=args.backend,
                        max_tokens=args.max_tokens)
    out = args.out or tempfile.mkdtemp(prefix="bench-eval-")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    run = run_eval(cfg, os.path.join(out, "run") if not args.out else out, timings=timings)
    total = time.perf_counter() - start
    metrics = run.read_metrics()
    report = {
        "model": args.model, "backend": args.backend, "tasks": cfg.tasks, "limit_per_task": args.limit,
        "max_tokens": args.max_tokens or "per task (ifeval/constraints 512, safety 128, winrate 256)",
        "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "seconds": {k: round(v, 1) for k, v in {**timings, "total": total}.items()},
        "metrics": {k: None if v["value"] is None else round(v["value"], 4) for k, v in metrics.items()},
        "run": str(run.path),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
