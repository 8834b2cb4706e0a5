"""How many official IFEval prompts the demo's held-out check needs: the prompt-strict effect a slice of N
prompts detects with 80% power (McNemar exact, alpha 0.05), against the minutes the slice adds to the demo.

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/bench_demo_ifeval_power.py \
        --pilot RUN_A RUN_B --out benchmarks/results/demo_ifeval_power.json

McNemar's power depends on the discordance rate psi (share of prompts where exactly one of base and trained
passes). It is estimated from real SmolLM2 answers: `--pilot` eval runs of one model with several sampled
answers per IFEval prompt (e.g. `alignsmith eval run --model smollm2-135m-instruct --tasks ifeval --limit 30
--samples 4 --temperature 0.7 --max-tokens 192 --seed 0`, and the same with `--seed 1`). Two independent answers
to prompt i disagree with probability 2 p_i (1 - p_i); the mean of that over prompts, divided by the value
prompt-blind independence would give, 2 p (1 - p), says how much prompt difficulty ties two answers together.
That ratio is carried to the greedy base rate measured on all 541 prompts (0.187, issue 17) as the planning
psi: it treats the trained model's answer as a fresh draw on every prompt, an upper-side assumption for a
LoRA model that leaves many answers unchanged. Bounds: psi >= |diff| (the issue's marginals) and psi at most
prompt-blind independence.

For each (N, psi) the table gives the MDE from evaluate/power.py (the noncentral-t approximation `compare`
prints), the exact power of McNemar's exact test at that MDE (enumerating the discordant count and its
binomial split), and, as an outside check, Connor's (1987) sample-size formula for McNemar's test at that MDE.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASE_RATE = 0.187            # SmolLM2-135M-Instruct, greedy, 384 tokens, all 541 prompts (issue 17)
SMALLEST_DIFF = 0.021        # |0.166 - 0.187|: a trained model's measured change (issue 17, DPO seed 0)
BASE_S_PER_PROMPT = 336 / 541
TRAINED_S_PER_PROMPT = 140 / 541  # 136-145 s per trained model on 541 prompts (issue 17)
NS = (50, 100, 200, 300, 400, 541)
ALPHA = 0.05


def pilot_discordance(paths: list[str]) -> dict:
    """Pass rate and expected two-answer discordance of prompt_strict from sampled eval runs of one model."""
    import pandas as pd

    from alignsmith.evaluate.results import load_eval_run
    items = pd.concat([load_eval_run(p).items.assign(run=i) for i, p in enumerate(paths)])
    items = items[items["task"] == "ifeval"]
    per_prompt = items.groupby("item_id")["prompt_strict"].agg(["sum", "size"])
    s, k = per_prompt["sum"].to_numpy(float), per_prompt["size"].to_numpy(float)
    # Unbiased per prompt: the share of discordant pairs among all pairs of its k answers.
    pairs = 2 * s * (k - s) / (k * (k - 1))
    rate = float(s.sum() / k.sum())
    psi = float(pairs.mean())
    return {"runs": paths, "prompts": int(len(per_prompt)), "answers_per_prompt": int(k.min()),
            "pass_rate": rate, "discordance": psi, "independent_discordance": 2 * rate * (1 - rate),
            "ratio": psi / (2 * rate * (1 - rate))}


def mde(n: int, psi: float) -> float:
    """evaluate/power.py's MDE for a McNemar table with discordance psi and no true difference."""
    from alignsmith.evaluate.power import Spread, minimum_detectable_effect
    sd = float(np.sqrt(psi))
    return minimum_detectable_effect(Spread(sd / np.sqrt(n), float(n), sd), ALPHA)


def exact_mcnemar_power(n: int, psi: float, delta: float) -> float:
    """Power of McNemar's exact two-sided test: D ~ Bin(n, psi) discordant, G | D ~ Bin(D, q) gained."""
    from scipy.stats import binom
    if delta >= psi:  # a difference larger than the discordance allows: not a possible table
        return float("nan")
    q = (psi + delta) / (2 * psi)
    power = 0.0
    for d in range(1, n + 1):
        g = np.arange(d + 1)
        p = np.minimum(1.0, 2 * np.minimum(binom.cdf(g, d, 0.5), binom.sf(g - 1, d, 0.5)))
        power += binom.pmf(d, n, psi) * binom.pmf(g[p < ALPHA], d, q).sum()
    return float(power)


def exact_mde(n: int, psi: float, power: float = 0.8) -> float:
    """Smallest difference McNemar's exact test detects with `power` (its power grows with the difference)."""
    from scipy.optimize import brentq
    top = psi * (1 - 1e-9)
    if exact_mcnemar_power(n, psi, top) < power:
        return float("nan")
    return float(brentq(lambda x: exact_mcnemar_power(n, psi, x) - power, 0.0, top, xtol=1e-4))


def connor_n(psi: float, delta: float, power: float = 0.8) -> float:
    """Connor (1987), Biometrics 43:207: prompts McNemar's test needs for difference delta at discordance psi."""
    from scipy.stats import norm
    za, zb = norm.isf(ALPHA / 2), norm.isf(1 - power)
    return float((za * np.sqrt(psi) + zb * np.sqrt(psi - delta ** 2)) ** 2 / delta ** 2)


def added_minutes(n: int, seeds: int = 2) -> float:
    """Generation minutes a slice of n prompts adds for base + each seed (engine starts not included)."""
    return n * (BASE_S_PER_PROMPT + seeds * TRAINED_S_PER_PROMPT) / 60


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pilot", nargs="+",
                        help="sampled eval runs of one model on IFEval (several answers per prompt)")
    parser.add_argument("--out", help="write the numbers as JSON here")
    args = parser.parse_args(argv)
    pilot = pilot_discordance(args.pilot) if args.pilot else None
    independent = 2 * BASE_RATE * (1 - BASE_RATE)
    planning = {"upper (prompt-blind independence)": independent}
    if pilot:
        planning = {"planning (pilot ratio x independence)": pilot["ratio"] * independent, **planning}
        print(f"pilot: {pilot['prompts']} prompts x {pilot['answers_per_prompt']} answers, prompt_strict pass rate "
              f"{pilot['pass_rate']:.3f}, two-answer discordance {pilot['discordance']:.3f} = "
              f"{pilot['ratio']:.2f} x independence ({pilot['independent_discordance']:.3f})")
    planning = {"low (half the planning value)": min(planning.values()) / 2, **planning}
    print(f"base rate {BASE_RATE}; psi bounds: >= {SMALLEST_DIFF} (measured change), <= {independent:.3f}\n")
    print("| N | added min (base + 2 seeds) | psi | MDE (power.py) | exact McNemar power at that MDE | "
          "exact McNemar MDE | Connor n at power.py's MDE |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for n in NS:
        for name, psi in sorted(planning.items(), key=lambda kv: kv[1]):
            m = mde(n, psi)
            if not m < psi:
                continue  # this slice cannot detect any difference the discordance allows
            row = {"n": n, "psi_name": name, "psi": psi, "mde": m, "exact_power": exact_mcnemar_power(n, psi, m),
                   "exact_mde": exact_mde(n, psi), "connor_n": connor_n(psi, m), "added_minutes": added_minutes(n)}
            rows.append(row)
            print(f"| {n} | {row['added_minutes']:.1f} | {psi:.3f} ({name.split(' ')[0]}) | {m:.3f} | "
                  f"{row['exact_power']:.3f} | {row['exact_mde']:.3f} | {row['connor_n']:.0f} |")
    if args.out:
        Path(args.out).write_text(json.dumps({"base_rate": BASE_RATE, "alpha": ALPHA, "pilot": pilot,
                                              "psi": planning, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
