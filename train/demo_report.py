"""The demo's closing numbers: constraint accuracy per model and the win rate of trained over base.

Several samples per held-out prompt are averaged within the prompt first, and intervals resample prompts
(not samples), so the 95% intervals stay honest about how few prompts there are. The gain over base uses
the same paired test as `alignsmith compare` (evaluate.paired_tests: a sign-flip permutation test, whose
false-alarm rate stays at most nominal on 16 prompts), with the minimum detectable effect beside it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

METRIC = "inst_strict"  # share of a prompt's constraints met


def _per_item(items, metric: str = METRIC):
    rows = items[items["task"] == "constraints"]
    return rows.groupby("item_id")[metric].mean()


def _paired_outcomes(base_items, new_items, metric: str = METRIC) -> dict[str, float]:
    """Per prompt: mean over paired samples of 1 (trained meets more), 0.5 (same), 0 (fewer)."""
    cols = ["item_id", "sample", metric]
    a = base_items[base_items["task"] == "constraints"][cols]
    b = new_items[new_items["task"] == "constraints"][cols]
    merged = a.merge(b, on=["item_id", "sample"], suffixes=("_base", "_new"))
    diff = merged[f"{metric}_new"] - merged[f"{metric}_base"]
    merged["outcome"] = np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5))
    return merged.groupby("item_id")["outcome"].mean().to_dict()


def demo_report(eval_runs: dict[str, Path], seed: int = 0) -> dict:
    """Accuracy (with 95% CI over prompts) per model, and win rates of each trained model and of all pooled."""
    from alignsmith.evaluate.paired_tests import PairedInputError, paired_test
    from alignsmith.evaluate.power import minimum_detectable_effect, spread_of_differences
    from alignsmith.evaluate.results import load_eval_run
    from alignsmith.evaluate.stats import bootstrap_mean_ci
    from alignsmith.evaluate.winrate import raw_win_rate
    runs = {label: load_eval_run(path) for label, path in eval_runs.items()}
    accuracy = {}
    for label, run in runs.items():
        per_item = _per_item(run.items)
        lo, hi = bootstrap_mean_ci(per_item.values, seed=seed)
        accuracy[label] = {"value": float(per_item.mean()), "ci_low": lo, "ci_high": hi,
                           "prompts": int(per_item.size),
                           "samples": int((run.items["task"] == "constraints").sum())}
    base = runs.pop("base")
    base_items = _per_item(base.items)
    gains = {}
    for label, run in runs.items():
        new = _per_item(run.items).reindex(base_items.index)
        both = new.notna().to_numpy() & base_items.notna().to_numpy()  # prompts the trained model also answered
        b, n = base_items.to_numpy(float)[both], new.to_numpy(float)[both]
        try:
            r = paired_test(b, n, seed=seed)
        except PairedInputError as err:  # e.g. a one-prompt demo: say so instead of a p-value
            gains[label] = {"diff": None, "note": f"not tested: {err}", "prompts": int(both.sum())}
            continue
        mde = minimum_detectable_effect(spread_of_differences(n - b))
        gains[label] = {"diff": r.diff, "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value,
                        "test": r.test, "mde": None if np.isnan(mde) else mde, "prompts": r.n,
                        "prompts_missing": int((~both).sum())}
    wins, pooled = {}, {}
    for label, run in runs.items():
        outcomes = _paired_outcomes(base.items, run.items)
        for item, value in outcomes.items():
            pooled.setdefault(item, []).append(value)
        w = raw_win_rate(list(outcomes.values()), seed=seed)
        wins[label] = {"value": w.value, "ci_low": w.ci_low, "ci_high": w.ci_high, "prompts": w.n}
    if len(runs) > 1:
        w = raw_win_rate([float(np.mean(v)) for v in pooled.values()], seed=seed)
        wins["all seeds"] = {"value": w.value, "ci_low": w.ci_low, "ci_high": w.ci_high, "prompts": w.n}
    return {"metric": f"constraints/{METRIC}", "accuracy": accuracy, "gain_vs_base": gains,
            "win_rate_vs_base": wins}


def print_report(report: dict, summary: dict, folder: Path) -> None:
    """The closing summary: numbers, where everything is, how to open the dashboard."""
    print("\nConstraint accuracy on held-out prompts (share of constraints met, 95% CI over prompts):")
    for label, a in report["accuracy"].items():
        print(f"  {label:<14} {a['value']:.3f}  [{a['ci_low']:.3f}, {a['ci_high']:.3f}]  "
              f"({a['prompts']} prompts, {a['samples']} answers)")
    print("Gain over base, paired by prompt (sign-flip permutation test, 95% CI, MDE at 80% power):")
    for label, g in report["gain_vs_base"].items():
        if g.get("diff") is None:
            print(f"  {label:<14} {g['note']}")
            continue
        mde = f"  MDE ±{g['mde']:.3f}" if g.get("mde") is not None else ""
        print(f"  {label:<14} {g['diff']:+.3f}  [{g['ci_low']:+.3f}, {g['ci_high']:+.3f}]  p={g['p_value']:.3f}{mde}")
    print("Win rate of trained over base (more constraints met; ties count half):")
    for label, w in report["win_rate_vs_base"].items():
        print(f"  {label:<14} {w['value']:.3f}  [{w['ci_low']:.3f}, {w['ci_high']:.3f}]")
    if report.get("ifeval"):
        from .demo_ifeval import print_ifeval
        print_ifeval(report["ifeval"], report["ifeval"].get("prompts_in_source"))
    t = summary["timings"]
    ifeval = f", IFEval {t['ifeval_s']:.0f} s" if "ifeval_s" in t else ""
    print(f"\nTime: {t['total_s'] / 60:.1f} min (generate {t['generate_s']:.0f} s, train {t['train_s']:.0f} s, "
          f"eval {t['eval_s']:.0f} s{ifeval})")
    print(f"Results: {folder}/summary.json")
    for key in ("generate_run", "curate_run", "pairs_run"):
        print(f"  {key.replace('_run', ''):<9} {summary[key]}")
    for path in summary["train_runs"]:
        print(f"  train     {path}")
    for label, path in summary["eval_runs"].items():
        print(f"  eval      {path}  ({label})")
    for label, path in summary.get("ifeval_eval_runs", {}).items():
        print(f"  eval      {path}  ({label}, IFEval)")
    runs_dir = folder.parent.parent
    print(f"\nOpen the dashboard:  .venv/bin/alignsmith dashboard --runs {runs_dir}")
