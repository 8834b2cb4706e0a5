"""Seconds to score IFEval's 541 GPT-4 responses (834 instructions), strict + loose, in one process.

    NLTK_DATA=../shared/data/nltk_data OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_verifiers.py

Prints the first (cold: imports nltk/langdetect and loads their models) and the warm runs, as wall-clock
and process-CPU seconds (CPU time is steadier on a shared machine), and checks the accuracies still equal
the official summary so a fast-but-wrong change cannot look like a win.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score_all(inputs: list[dict], responses: dict[str, str]) -> dict[str, tuple[int, int]]:
    """(prompts fully followed, instructions followed) per mode."""
    from alignsmith.curate.verifiers import verify
    totals = {}
    for mode in ("strict", "loose"):
        prompt_ok = inst_ok = 0
        for row in inputs:
            v = verify(row["instruction_id_list"], row["kwargs"], responses[row["prompt"]], prompt=row["prompt"],
                       mode=mode, key=row["key"])
            prompt_ok += all(v)
            inst_ok += sum(v)
        totals[mode] = (prompt_ok, inst_ok)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs after the cold one")
    args = parser.parse_args()
    os.environ.setdefault("NLTK_DATA", str(args.data / "nltk_data"))
    root = args.data / "ifeval"
    inputs = _jsonl(root / "input_data.jsonl")
    responses = {r["prompt"]: r["response"] for r in _jsonl(root / "input_response_data_gpt4_20231107_145030.jsonl")}
    summary = json.loads((root / "official_results" / "summary.json").read_text())
    runs = []
    for _ in range(1 + args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        totals = score_all(inputs, responses)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
        for mode in ("strict", "loose"):
            expected = (summary[mode]["prompt_correct"], summary[mode]["instr_correct"])
            assert totals[mode] == expected, f"{mode}: {totals[mode]} != official {expected}"
    warm = runs[1:]
    print(f"541 responses, 834 instructions, strict + loose; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"cold run (incl. nltk/langdetect import):  wall {runs[0][0]:.2f} s  cpu {runs[0][1]:.2f} s")
    if warm:
        print(f"warm runs (median of {len(warm)}):            wall {statistics.median(w for w, _ in warm):.2f} s  "
              f"cpu {statistics.median(c for _, c in warm):.2f} s")
    print("accuracies equal the official summary: yes")


if __name__ == "__main__":
    main()
