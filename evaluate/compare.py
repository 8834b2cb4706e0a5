"""Paired regression comparison of two eval runs (`alignsmith compare BASE NEW`).

Per metric, on the items both runs answered: McNemar's exact test for pass/fail values, a paired
bootstrap for continuous ones; Holm's correction across all metrics compared. A metric regressed when it
moved in the worse direction with a Holm-adjusted p below alpha, or dropped by more than its --max-drop.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .results import EvalRun
from .stats import holm, is_binary, mcnemar_exact, paired_bootstrap


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
        rows = rows[rows[f"{col}__base"].notna() & rows[f"{col}__new"].notna()]
        if rows.empty:
            continue
        b, n = rows[f"{col}__base"].to_numpy(float), rows[f"{col}__new"].to_numpy(float)
        weight_col = f"{spec['weight']}__base" if spec.get("weight") else None
        w = rows[weight_col].to_numpy(float) if weight_col and weight_col in rows else None
        if w is None and is_binary(b) and is_binary(n):
            r = mcnemar_exact(b, n)
        else:
            r = paired_bootstrap(b, n, w, seed=seed)
        results.append({"metric": full, "test": r.test, "n": r.n, "base": r.base_value, "new": r.new_value,
                        "diff": r.diff, "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value,
                        "higher_is_better": bool(spec["higher_is_better"]),
                        "discordant": list(r.discordant) if r.discordant else None})
    if not results:
        raise ValueError("no metric has values in both runs on the shared items")
    for r, p_adj in zip(results, holm([r["p_value"] for r in results])):
        _judge(r, p_adj, alpha, _resolve_drop(max_drops, r["metric"]))
    regressed = any(r["verdict"] == "regressed" or r["max_drop_exceeded"] for r in results)
    in_tasks = [int(r.item_level()["task"].isin(tasks).sum()) for r in (base, new)]
    return {"base": str(base.path), "new": str(new.path), "alpha": alpha, "seed": seed,
            "tasks": tasks, "shared_items": int(len(joined)),
            # Items only one run has (other slice, or the prompt changed under the same id): not compared.
            "base_only_items": in_tasks[0] - int(len(joined)), "new_only_items": in_tasks[1] - int(len(joined)),
            "metrics": results,
            "regressed": regressed, "exit_code": 1 if regressed else 0}


def _judge(r: dict, p_adj: float, alpha: float, max_drop: float | None) -> None:
    r["p_holm"] = p_adj
    worse = r["diff"] < 0 if r["higher_is_better"] else r["diff"] > 0
    better = r["diff"] > 0 if r["higher_is_better"] else r["diff"] < 0
    significant = p_adj < alpha
    r["verdict"] = ("regressed" if worse and significant else "improved" if better and significant
                    else "no significant change")
    drop = -r["diff"] if r["higher_is_better"] else r["diff"]
    r["drop"] = float(drop)
    r["max_drop"] = max_drop
    r["max_drop_exceeded"] = bool(max_drop is not None and drop > max_drop)


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    return f"{x:.4f}" if isinstance(x, float) else str(x)


def compare_markdown(result: dict) -> str:
    """A Markdown report: one table row per metric and a verdict line."""
    lines = [f"# Compare: {result['new']} vs base {result['base']}", "",
             f"{result['shared_items']} shared items ({result['base_only_items']} only in base, "
             f"{result['new_only_items']} only in new, not compared); alpha {result['alpha']} with Holm correction "
             f"over {len(result['metrics'])} metrics.", "",
             "| metric | test | n | base | new | diff | 95% CI | p | p (Holm) | verdict |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["metrics"]:
        verdict = r["verdict"] + (f"; drop {r['drop']:.4f} > max {r['max_drop']}" if r["max_drop_exceeded"] else "")
        lines.append(f"| {r['metric']}{'' if r['higher_is_better'] else ' (lower is better)'} | {r['test']} | "
                     f"{r['n']} | {_fmt(r['base'])} | {_fmt(r['new'])} | {_fmt(r['diff'])} | "
                     f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}] | {r['p_value']:.3g} | "
                     f"{r['p_holm']:.3g} | {verdict} |")
    lines += ["", "**REGRESSION**: at least one metric got worse." if result["regressed"]
              else "No significant regression."]
    return "\n".join(lines) + "\n"
