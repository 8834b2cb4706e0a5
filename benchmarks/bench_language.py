"""The `language` filter one row at a time (how the pipeline ran it before) against the batch path (each
distinct prompt detected once, responses spread over worker processes), on bench_curate's candidates.

    .venv/bin/python benchmarks/bench_language.py --candidates 20000 --per-prompt 4 \
        --out benchmarks/results/language_20k_per4.json

Runs in one process on the same rows; wall seconds per path (the worker processes' CPU is not in this
process's CPU time, so wall is the comparable figure on an otherwise idle machine) and whether every row's
reason is the same.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_curate import build_candidates  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--candidates", type=int, default=20000)
    ap.add_argument("--per-prompt", type=int, default=4)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from alignsmith.curate.steps.base import FILTERS
    language = FILTERS.get("language")
    rows = build_candidates(args.candidates, args.per_prompt)
    results, reference = [], None
    started = time.perf_counter()
    reference = [language(workers=1).reject(r) for r in rows]
    results.append({"path": "one row at a time", "wall_s": round(time.perf_counter() - started, 2)})
    print(json.dumps(results[-1]), flush=True)
    for workers in args.workers:
        started = time.perf_counter()
        reasons = language(workers=workers).reject_batch(rows)
        results.append({"path": f"batch, {workers} worker process(es)", "workers": workers,
                        "wall_s": round(time.perf_counter() - started, 2), "same_reasons": reasons == reference})
        print(json.dumps(results[-1]), flush=True)
    summary = {"command": " ".join(["benchmarks/bench_language.py"] + sys.argv[1:]), "cpus": os.cpu_count(),
               "load_avg_1min_at_start": os.getloadavg()[0], "candidates": len(rows),
               "per_prompt": args.per_prompt, "dropped": sum(r is not None for r in reference), "results": results}
    Path(args.out).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
