"""Paired regression comparison of two eval runs (`alignsmith compare BASE NEW`).

Per metric, on the items both runs answered: McNemar's exact test for unweighted pass/fail values, an
exact or Monte-Carlo sign-flip permutation test otherwise (evaluate.paired_tests); Holm's correction across
all metrics tested. Each row also carries the interval of the difference, the minimum detectable effect
(80% power at alpha) and, when the runs drew several samples per item, the run-to-run noise floor and the
share of variance that is sampling noise. A metric regressed when it moved in the worse direction with a
Holm-adjusted p below alpha and by more than the noise floor, or dropped by more than its --max-drop.
A metric that cannot be tested (fewer than 2 items, mismatched weights...) is reported as "not tested"
with the reason, never as "no significant change".
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .compare_metric import NOT_TESTED, metric_row
from .results import EvalRun
from .stats import holm


def parse_max_drops(specs: Sequence[str] | None) -> dict[str, float]:
    """`metric=value` strings → {metric: value}; the metric may be `task/metric` or a bare metric name."""
    drops = {}
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        try:
            drops[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ValueError(f"--max-drop {spec!r}: expected metric=value, e.g. ifeval/prompt_strict=0.02")
    return drops


def check_comparable(base: EvalRun, new: EvalRun) -> list[str]:
    """Shared task names; refuses runs with different task versions or no shared task."""
    bv, nv = base.task_versions, new.task_versions
    shared = [t for t in bv if t in nv]
    differing = [f"{t} (base v{bv[t]}, new v{nv[t]})" for t in shared if bv[t] != nv[t]]
    if differing:
        raise ValueError(f"runs used different task versions: {', '.join(differing)}; re-run both with the "
                         "same version before comparing")
    if not shared:
        raise ValueError(f"runs share no task (base: {', '.join(bv) or 'none'}; new: {', '.join(nv) or 'none'})")
    return shared


def _paired_frame(base: EvalRun, new: EvalRun, tasks: list[str]):
    keys = ["task", "item_id", "prompt_id"]
    b_items, n_items = base.item_level(), new.item_level()
    b = b_items[b_items["task"].isin(tasks)]
    n = n_items[n_items["task"].isin(tasks)]
    joined = b.merge(n, on=keys, suffixes=("__base", "__new"))
    if joined.empty:
        raise ValueError(f"runs share no items (base {len(b)} items, new {len(n)} items in tasks "
                         f"{', '.join(tasks)}); compare runs over the same items")
    return joined


def _resolve_drop(drops: dict[str, float], full_name: str) -> float | None:
    if full_name in drops:
        return drops[full_name]
    return drops.get(full_name.split("/", 1)[1])


def compare_runs(base: EvalRun, new: EvalRun, *, alpha: float = 0.05, max_drops: dict[str, float] | None = None,
                 seed: int = 0) -> dict:
    """The comparison as a JSON-ready dict with `regressed` and `exit_code` (1 on regression)."""
    max_drops = dict(max_drops or {})
    tasks = check_comparable(base, new)
    joined = _paired_frame(base, new, tasks)
    specs = {k: v for k, v in base.metric_specs().items() if v["task"] in tasks}
    known = set(specs) | {k.split("/", 1)[1] for k in specs}
    unknown = [m for m in max_drops if m not in known]
    if unknown:
        raise ValueError(f"--max-drop names unknown metrics {unknown}; known: {', '.join(sorted(specs))}")
    results = []
    for full, spec in specs.items():
        col = spec["name"]
        if f"{col}__base" not in joined or f"{col}__new" not in joined:
            continue
        rows = joined[joined["task"] == spec["task"]]
        row = metric_row(full, spec, rows, base.items, new.items, alpha=alpha, seed=seed)
        if row is not None:
            results.append(row)
    tested = [r for r in results if r.get("verdict") != NOT_TESTED]
    if not tested:
        reasons = "; ".join(f"{r['metric']}: {r['note']}" for r in results) or "no metric has values in both runs"
        raise ValueError(f"no metric could be tested on the shared items ({reasons})")
    for r, p_adj in zip(tested, holm([r["p_value"] for r in tested])):
        _judge(r, p_adj, alpha, _resolve_drop(max_drops, r["metric"]))
    for r in results:
        if r.get("verdict") == NOT_TESTED:
            r.update(p_holm=None, drop=None, max_drop=_resolve_drop(max_drops, r["metric"]), max_drop_exceeded=False)
    regressed = any(r["verdict"] == "regressed" or r["max_drop_exceeded"] for r in results)
    in_tasks = [int(r.item_level()["task"].isin(tasks).sum()) for r in (base, new)]
    return {"base": str(base.path), "new": str(new.path), "alpha": alpha, "seed": seed,
            "tasks": tasks, "shared_items": int(len(joined)),
            # Items only one run has (other slice, or the prompt changed under the same id): not compared.
            "base_only_items": in_tasks[0] - int(len(joined)), "new_only_items": in_tasks[1] - int(len(joined)),
            "metrics": results, "not_tested": [r["metric"] for r in results if r["verdict"] == NOT_TESTED],
            "regressed": regressed, "exit_code": 1 if regressed else 0}


def _judge(r: dict, p_adj: float, alpha: float, max_drop: float | None) -> None:
    r["p_holm"] = p_adj
    worse = r["diff"] < 0 if r["higher_is_better"] else r["diff"] > 0
    better = r["diff"] > 0 if r["higher_is_better"] else r["diff"] < 0
    significant = p_adj < alpha
    floor = r.get("noise_floor")
    inside_floor = floor is not None and abs(r["diff"]) <= floor
    if significant and (worse or better) and inside_floor:
        # Re-running the same checkpoints with other seeds moves the metric this much: not a regression.
        r["verdict"] = "within noise floor"
    elif significant and (worse or better):
        r["verdict"] = "regressed" if worse else "improved"
    elif r.get("identical"):
        r["verdict"] = "no change on any item"
    else:
        r["verdict"] = "no significant change"
    drop = -r["diff"] if r["higher_is_better"] else r["diff"]
    r["drop"] = float(drop)
    r["max_drop"] = max_drop
    r["max_drop_exceeded"] = bool(max_drop is not None and drop > max_drop)


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    return f"{x:.4f}" if isinstance(x, float) else str(x)


def _share(x) -> str:
    return "–" if x is None or np.isnan(x) else f"{100 * x:.0f}%"


def _p(x) -> str:
    return "–" if x is None else f"{x:.3g}"


def verdict_text(r: dict) -> str:
    """The verdict with what it rests on: the detectable effect beside every "no significant change"."""
    text = r["verdict"]
    if text == "no significant change" and r.get("mde") is not None and not np.isnan(r["mde"]):
        text += f" (80% power to detect ±{r['mde']:.4f})"
    if r.get("max_drop_exceeded"):
        text += f"; drop {r['drop']:.4f} > max {r['max_drop']}"
    return text


def compare_markdown(result: dict) -> str:
    """A Markdown report: one table row per metric (test, p, Holm p, interval, MDE, noise floor), notes."""
    lines = [f"# Compare: {result['new']} vs base {result['base']}", "",
             f"{result['shared_items']} shared items ({result['base_only_items']} only in base, "
             f"{result['new_only_items']} only in new, not compared); alpha {result['alpha']} with Holm correction "
             f"over the {len(result['metrics']) - len(result.get('not_tested', []))} metrics tested. MDE: the "
             "smallest difference this comparison detects with 80% power; noise floor: run-to-run spread of the "
             "difference between sample indices (`eval run --samples k`, k >= 2).", "",
             "| metric | test | n | base | new | diff | 95% CI | p | p (Holm) | MDE | noise floor | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["metrics"]:
        lines.append(f"| {r['metric']}{'' if r['higher_is_better'] else ' (lower is better)'} | {r['test']} | "
                     f"{r['n']} | {_fmt(r['base'])} | {_fmt(r['new'])} | {_fmt(r['diff'])} | "
                     f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] | {_p(r['p_value'])} | "
                     f"{_p(r['p_holm'])} | {_fmt(r.get('mde'))} | {_fmt(r.get('noise_floor'))} | {verdict_text(r)} |")
    notes = [f"- {r['metric']}: {r['note']}" for r in result["metrics"] if r.get("note")]
    notes += [f"- {r['metric']}: {100 * r['variance']['sampling_share']:.0f}% of the variance of a single "
              f"paired difference is sampling noise ({r['variance']['samples']} samples per item; "
              f"{100 * r['variance']['mean_noise_share']:.0f}% after averaging them); within each run: "
              f"base {_share(r['variance'].get('base_sampling_share'))}, "
              f"new {_share(r['variance'].get('new_sampling_share'))}"
              for r in result["metrics"] if r.get("variance")]
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines += ["", "**REGRESSION**: at least one metric got worse." if result["regressed"]
              else "No significant regression."]
    if result.get("not_tested"):
        lines.append(f"**NOT TESTED**: {', '.join(result['not_tested'])} (see notes).")
    return "\n".join(lines) + "\n"
