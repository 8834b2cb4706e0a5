"""MinHash near-duplicate detection at scale: alignsmith's vectorised MinHash-LSH vs datasketch.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_minhash.py --docs 1000000 --baseline-docs 100000 \
        --workers 2 --out benchmarks/results/minhash.json

Data: short synthetic documents (12-25 words drawn from the word frequencies of AlpacaEval + HH-RLHF
prompts in ../shared/data), one in ten a planted near-duplicate of an earlier document (~10% of words
edited, two words swapped, casing and punctuation changed), so the true duplicate pairs are known. The
documents are written to a JSONL file first (not timed) and both methods read it streaming.

Measured: wall time and throughput, peak RSS (this process and the hashing workers), and pair precision /
recall / F1 against the planted pairs. datasketch (MinHash + MinHashLSH, same shingles, num_perm and
threshold, bands/rows chosen by datasketch) runs on the first `--baseline-docs` documents in the same run;
its time for the full set is extrapolated linearly (LSH insert/query cost per document is constant).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def vocabulary(shared: Path) -> tuple[list[str], list[int]]:
    """Words and their counts from real prompts (a fixed fallback list when the data is absent)."""
    counts: Counter = Counter()
    alpaca = shared / "alpaca_eval/alpaca_eval_805_prompts.jsonl"
    hh = shared / "hh_rlhf/helpful-base/test.jsonl.gz"
    if alpaca.exists() and hh.exists():
        for line in open(alpaca):
            counts.update(json.loads(line)["instruction"].split())
        with gzip.open(hh, "rt") as f:
            for line in f:
                counts.update(json.loads(line)["chosen"].split())
    else:
        counts.update(f"word{i}" for i in range(5000))
    words, freq = zip(*counts.most_common(20000))
    return list(words), list(freq)


def original(i: int, seed: int, words, cum) -> str:
    """Document i (deterministic in seed and i)."""
    rng = random.Random(seed * 1_000_003 + i)
    return " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(12, 25))).capitalize() + "."


def near_duplicate(text: str, rng: random.Random, words) -> str:
    """A planted near-duplicate of `text`."""
    toks = text.split()
    i, j = rng.sample(range(len(toks)), 2)
    toks[i], toks[j] = toks[j], toks[i]
    for _ in range(max(1, round(len(toks) * 0.1))):
        k = rng.randrange(len(toks))
        op = rng.random()
        if op < 0.4:
            toks[k] = rng.choice(words)
        elif op < 0.7 and len(toks) > 5:
            del toks[k]
        else:
            toks.insert(k, rng.choice(words))
    out = " ".join(toks)
    out = out.upper() if rng.random() < 0.3 else out.lower()
    return re.sub(r"[.,?!]", "", out) + ("!" if rng.random() < 0.5 else "")


def source_of(i: int) -> int | None:
    """Doc 10b+9 duplicates doc 10*(b//2) + 2*(b%2): each original is copied at most once."""
    if i % 10 != 9:
        return None
    b = i // 10
    return 10 * (b // 2) + 2 * (b % 2)


def write_docs(path: Path, n: int, seed: int, words, freq) -> None:
    """Write n documents as JSONL {id, text}."""
    import itertools
    cum = list(itertools.accumulate(freq))
    with open(path, "w") as f:
        for i in range(n):
            s = source_of(i)
            text = original(i, seed, words, cum) if s is None else \
                near_duplicate(original(s, seed, words, cum), random.Random(seed * 7 + i), words)
            f.write(json.dumps({"id": i, "text": text}) + "\n")


def stream_texts(path: Path, limit: int | None = None):
    """Texts of the first `limit` documents, one at a time."""
    with open(path) as f:
        for k, line in enumerate(f):
            if limit is not None and k >= limit:
                return
            yield json.loads(line)["text"]


def truth_pairs(n: int) -> set[tuple[int, int]]:
    """Planted (source, copy) pairs among the first n documents."""
    return {(source_of(i), i) for i in range(n) if source_of(i) is not None}


def scores(found: set, truth: set) -> dict:
    """Pair precision, recall and F1."""
    tp = len(found & truth)
    p = tp / len(found) if found else 0.0
    r = tp / len(truth) if truth else 0.0
    return {"pairs_found": len(found), "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def peak_rss_mb() -> dict:
    """Peak resident memory of this process and of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"main_mb": round(own), "largest_worker_mb": round(kids)}


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the hashing workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_alignsmith(path: Path, n: int, args) -> dict:
    """alignsmith's MinHash-LSH on the first n documents."""
    from alignsmith.curate.dedup.minhash import MinHashConfig, near_duplicate_pairs
    cfg = MinHashConfig(threshold=args.threshold, num_perm=args.num_perm, seed=args.seed)
    start, cpu = time.perf_counter(), cpu_seconds()
    pairs, _, count = near_duplicate_pairs(stream_texts(path, n), cfg, workers=args.workers)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    found = {(int(a), int(b)) for a, b in pairs}
    bands, rows = cfg.banding()
    return {"docs": count, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "docs_per_second": round(count / seconds), "bands": bands, "rows": rows,
            **scores(found, truth_pairs(count)), "peak_rss": peak_rss_mb()}


def run_datasketch(path: Path, n: int, args) -> dict:
    """datasketch MinHash + MinHashLSH on the first n documents."""
    from datasketch import MinHash, MinHashLSH

    from alignsmith.curate.dedup.minhash import normalise_for_shingles
    start, cpu = time.perf_counter(), cpu_seconds()
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    sketches, raw, verified = [], set(), set()
    for i, text in enumerate(stream_texts(path, n)):
        norm = normalise_for_shingles(text)
        m = MinHash(num_perm=args.num_perm, seed=args.seed)
        m.update_batch([norm[k:k + 5].encode() for k in range(max(len(norm) - 4, 1))])
        for j in lsh.query(m):
            raw.add((j, i))
            if m.jaccard(sketches[j]) >= args.threshold:
                verified.add((j, i))
        lsh.insert(i, m)
        sketches.append(m)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    truth = truth_pairs(n)
    return {"docs": n, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "docs_per_second": round(n / seconds),
            "bands": lsh.b, "rows": lsh.r, "lsh_candidates": scores(raw, truth),
            "verified_by_jaccard": scores(verified, truth)}


def main() -> int:
    """Write the data, run both methods, print and save the results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--baseline-docs", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", help="write the results as JSON here too")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    words, freq = vocabulary(Path(args.data))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docs.jsonl"
        t0 = time.perf_counter()
        write_docs(path, args.docs, args.seed, words, freq)
        print(f"wrote {args.docs} docs in {time.perf_counter() - t0:.1f}s ({path.stat().st_size / 1e6:.0f} MB)")
        ours_full = run_alignsmith(path, args.docs, args)
        print("alignsmith, all docs:", json.dumps(ours_full))
        ours_sub = run_alignsmith(path, args.baseline_docs, args)
        print("alignsmith, baseline subsample:", json.dumps(ours_sub))
        base = run_datasketch(path, args.baseline_docs, args)
        print("datasketch, baseline subsample:", json.dumps(base))
    extrapolated = base["seconds"] * args.docs / args.baseline_docs
    result = {"cpu_count": os.cpu_count(), "load_avg_1m": os.getloadavg()[0], "args": vars(args),
              "alignsmith_full": ours_full, "alignsmith_subsample": ours_sub, "datasketch_subsample": base,
              "datasketch_full_extrapolated_seconds": round(extrapolated, 1),
              "speedup_same_docs": round(base["seconds"] / ours_sub["seconds"], 1),
              "speedup_full_vs_extrapolated": round(extrapolated / ours_full["seconds"], 1),
              "cpu_speedup_same_docs": round(base["cpu_seconds"] / ours_sub["cpu_seconds"], 1)}
    print(json.dumps({k: result[k] for k in ("datasketch_full_extrapolated_seconds", "speedup_same_docs",
                                             "speedup_full_vs_extrapolated", "cpu_speedup_same_docs", "load_avg_1m")}))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
