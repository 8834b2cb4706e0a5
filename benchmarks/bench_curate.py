"""Curation at dataset scale (issue 18): the full curate config on N candidates, before and after the
safety fast path, locally and on a Ray cluster of separate processes.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_curate.py --candidates 2000 \
        --per-prompt 4 1 --out benchmarks/results/curate.json

Config (every step of the issue): empty, truncated, leakage, repetition, language, safety_policy,
dedup (MinHash), decontam. Data: real prompts and answers from ../shared/data (HH-RLHF helpful-base and
harmless-base test splits: the first human turn and the first assistant turn of `chosen` and of `rejected`;
AlpacaEval's prompts with two models' reference outputs), repeated and perturbed to size: a prompt used
again gets a suffix ("(variant k)", a politeness phrase), an answer used again gets a sentence appended or
two words swapped, so texts stay distinct (and some are near-duplicates, as in real generations).
`--per-prompt 4`: N/4 prompts with 4 candidates each; `--per-prompt 1`: N distinct prompts.

Variants, each in a fresh process (so wall, CPU and peak memory include model loading):
  baseline   the old path: no score cache, the refusal model on every answer (`cache: false, rules_first: false`)
  fast       score cache (cold: a new cache file) + rules first
  fast-warm  the same again on the same cache file (a rerun after changing a later step)
  bf16       fast with the harmful-prompt probe in bfloat16 (`harm_precision: bfloat16`), cold cache
  ray        fast (cold) with `--executor ray` on a cluster started as separate processes
             (`ray start --head` with 1 CPU + one worker node with 1 CPU, curate/pipeline/ray_cluster.py)
Recorded per run: wall, CPU seconds (this process and its children; for Ray also the cluster's processes),
peak RSS (driver; for Ray also the largest cluster process), rows/s, the funnel with per-step seconds.
Not timed: building the input file. Numbers depend on the machine's load (recorded, `os.getloadavg`).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
VARIANTS = ("baseline", "fast", "fast-warm", "bf16", "ray")


def full_config(cache_path: str, variant: str) -> list[dict]:
    """The issue's full curate config; the safety step's options depend on the variant."""
    safety: dict = {"filter": "safety_policy", "cache_path": cache_path}
    if variant == "baseline":
        safety.update(cache=False, rules_first=False)
    if variant == "bf16":
        safety["harm_precision"] = "bfloat16"
    return [{"filter": "empty"}, {"filter": "truncated"}, {"filter": "leakage"}, {"filter": "repetition"},
            {"filter": "language"}, safety, {"filter": "dedup", "method": "minhash"}, {"filter": "decontam"}]


# -- data -----------------------------------------------------------------------------------------

def _hh_pairs(split: str) -> list[tuple[str, list[str]]]:
    from alignsmith.curate.safety.training_data import hh_turns
    out = []
    with gzip.open(SHARED / "hh_rlhf" / split / "test.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            answers = []
            for side in ("chosen", "rejected"):
                turns = hh_turns(row[side])
                if len(turns) >= 2 and turns[0][0] == "Human" and turns[1][0] == "Assistant":
                    answers.append(turns[1][1])
            if answers:
                out.append((hh_turns(row["chosen"])[0][1], list(dict.fromkeys(answers))))
    return out


def _alpaca_pairs() -> list[tuple[str, list[str]]]:
    outputs = {}
    for path in sorted((SHARED / "alpaca_eval").glob("*_model_outputs.json")):
        for row in json.loads(path.read_text(encoding="utf-8")):
            outputs.setdefault(row["instruction"], []).append(row["output"])
    return list(outputs.items())


SUFFIXES = ("", " Please be brief.", " Thanks!", " Explain it simply.")
ADDED = (" I hope this helps.", " Let me know if you have other questions.", " That is the short version.")


def _perturb_prompt(text: str, round_: int) -> str:
    if round_ == 0:
        return text
    return f"{text}{SUFFIXES[round_ % len(SUFFIXES)]} (variant {round_})"


def _perturb_answer(text: str, k: int, rng: random.Random) -> str:
    if k == 0:
        return text
    words = text.split(" ")
    if k % 2 and len(words) > 4:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)
    return text + ADDED[k % len(ADDED)]


def build_candidates(n: int, per_prompt: int, seed: int = 0) -> list[dict]:
    """n candidate rows, `per_prompt` per prompt, from real HH-RLHF and AlpacaEval text (see the module note)."""
    rng = random.Random(seed)
    pool = _hh_pairs("helpful-base") + _hh_pairs("harmless-base") + _alpaca_pairs()
    rng.shuffle(pool)
    rows = []
    for i in range(-(-n // per_prompt)):
        prompt, answers = pool[i % len(pool)]
        prompt = _perturb_prompt(prompt, i // len(pool))
        pid = f"p{i:07d}"
        for j in range(per_prompt):
            if len(rows) == n:
                break
            answer = _perturb_answer(answers[j % len(answers)], j // len(answers), rng)
            rows.append({"prompt_id": pid, "candidate_id": f"{pid}-{j}", "model": "reference",
                         "prompt": [{"role": "user", "content": prompt}], "response": answer,
                         "finish_reason": "stop"})
    return rows


# -- one measured run (child process) ---------------------------------------------------------------

def child(args) -> None:
    """Run the config once on the input file and print one JSON line of measurements."""
    from alignsmith.curate.pipeline.run import curate_rows
    rows = [json.loads(line) for line in open(args.input, encoding="utf-8")]
    started, cpu0 = time.perf_counter(), _cpu()
    kept, dropped, report = curate_rows(rows, full_config(args.cache_path, args.variant),
                                        executor="ray" if args.variant == "ray" else "local")
    wall = time.perf_counter() - started
    if args.variant == "ray":
        import ray
        ray.shutdown()
    print(json.dumps({"wall_s": round(wall, 2), "driver_cpu_s": round(_cpu() - cpu0, 2),
                      "driver_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "rows_in": len(rows), "rows_out": len(kept), "dropped": len(dropped),
                      "candidates_per_s": round(len(rows) / wall, 2), "funnel": report["funnel"]}))


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _cluster_usage(cluster) -> tuple[float, float]:
    """(CPU seconds so far, largest RSS in MB) over the cluster's live processes."""
    from alignsmith.curate.pipeline.ray_cluster import _session_pids
    tick, cpu, rss = os.sysconf("SC_CLK_TCK"), 0.0, 0.0
    for proc in [cluster.head, *cluster.nodes]:
        for pid in _session_pids(proc.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu += (int(fields[11]) + int(fields[12])) / tick
                status = Path(f"/proc/{pid}/status").read_text()
                rss = max(rss, int(status.split("VmHWM:")[1].split()[0]) / 1024)
            except (OSError, IndexError, ValueError):
                continue
    return cpu, rss


def run_variant(variant: str, input_path: Path, cache_path: Path, env: dict, cluster=None) -> dict:
    """One variant in a fresh process; for Ray, the cluster's CPU and memory are added."""
    cmd = [sys.executable, __file__, "--child", "--input", str(input_path), "--variant", variant,
           "--cache-path", str(cache_path)]
    before = _cluster_usage(cluster) if cluster else (0.0, 0.0)
    load = os.getloadavg()[0]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{variant} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(variant=variant, load_avg_1min_at_start=round(load, 2))
    if cluster:
        after = _cluster_usage(cluster)
        result.update(cluster_cpu_s=round(after[0] - before[0], 2), cluster_peak_rss_mb=round(after[1], 1))
    return result


def precision_check(out: str) -> None:
    """Harmful-prompt verdicts in float32 vs bfloat16 on XSTest's prompts and our own dev sets: flips,
    largest probability change, and accuracy against the labels (human for XSTest, ours for dev sets)."""
    import csv
    from importlib import resources

    from alignsmith.curate.safety import HarmfulPromptClassifier
    sets = {}
    with open(SHARED / "xstest" / "xstest_prompts.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    sets["xstest_prompts"] = ([r["prompt"] for r in rows], [r["label"] == "unsafe" for r in rows])
    package = resources.files("alignsmith.curate.safety")
    for name in sorted(p.name for p in package.iterdir() if p.name.startswith("prompt_dev")):
        items = [json.loads(line) for line in package.joinpath(name).read_text().splitlines() if line.strip()]
        sets[name] = ([r["text"] for r in items], [r["label"] != "benign" for r in items])
    fp32, bf16 = HarmfulPromptClassifier(), HarmfulPromptClassifier(precision="bfloat16")
    report = {"threshold": fp32.threshold, "sets": {}}
    for name, (texts, labels) in sets.items():
        t0 = time.process_time()
        a = fp32.score(texts)
        t1 = time.process_time()
        b = bf16.score(texts)
        t2 = time.process_time()
        flips = [i for i, (x, y) in enumerate(zip(a, b)) if (x >= fp32.threshold) != (y >= fp32.threshold)]
        acc = lambda s, labels=labels: sum((v >= fp32.threshold) == lab for v, lab in zip(s, labels)) / len(labels)  # noqa: E731
        report["sets"][name] = {"n": len(texts), "flips": len(flips), "flipped": [texts[i] for i in flips],
                                "max_abs_prob_change": round(max(abs(x - y) for x, y in zip(a, b)), 4),
                                "accuracy_fp32": round(acc(a), 4), "accuracy_bf16": round(acc(b), 4),
                                "cpu_s_fp32": round(t1 - t0, 1), "cpu_s_bf16": round(t2 - t1, 1)}
        print(name, {k: v for k, v in report["sets"][name].items() if k != "flipped"}, flush=True)
        Path(out).write_text(json.dumps(report, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, nargs="+", default=[2000])
    parser.add_argument("--per-prompt", type=int, nargs="+", default=[4, 1])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "curate.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--cache-path", help=argparse.SUPPRESS)
    parser.add_argument("--precision-check", action="store_true",
                        help="only compare float32 and bfloat16 harmful-prompt verdicts (XSTest, dev sets)")
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.precision_check:
        return precision_check(args.out)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "NLTK_DATA": str(SHARED / "nltk_data"), "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1",
           "RAY_AUTH_MODE": "disabled"}
    results = []
    work = Path(tempfile.mkdtemp(prefix="bench-curate-"))
    for n in args.candidates:
        for k in args.per_prompt:
            rows = build_candidates(n, k)
            input_path = work / f"candidates-{n}-{k}.jsonl"
            input_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
            for variant in args.variants:
                cache = work / f"cache-{n}-{k}-{'fast' if variant == 'fast-warm' else variant}.sqlite"
                cluster = None
                if variant == "ray":
                    from alignsmith.curate.pipeline.ray_cluster import LocalRayCluster
                    cluster = LocalRayCluster(workers=1).start()
                try:
                    r = run_variant(variant, input_path, cache, {**env, **({"RAY_ADDRESS": cluster.address}
                                                                       if cluster else {})}, cluster)
                except RuntimeError as err:  # record it and go on: one broken variant should not void the rest
                    print(err, file=sys.stderr)
                    results.append({"variant": variant, "candidates": n, "per_prompt": k, "error": str(err)[-2000:]})
                    continue
                finally:
                    if cluster:
                        cluster.stop()
                r.update(candidates=n, per_prompt=k, prompts=len({row["prompt_id"] for row in rows}))
                results.append(r)
                slow = max((s for s in r["funnel"] if s.get("seconds") is not None), key=lambda s: s["seconds"])
                print(f"n={n} per_prompt={k} {variant:<9} wall {r['wall_s']:>8.1f} s  {r['candidates_per_s']:>7.2f} "
                      f"cand/s  peak {r['driver_peak_rss_mb']:.0f} MB  slowest {slow['step']} {slow['seconds']:.1f} s",
                      flush=True)
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                Path(args.out).write_text(json.dumps({"command": " ".join(sys.argv), "cpus": os.cpu_count(),
                                                      "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "1"),
                                                      "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
