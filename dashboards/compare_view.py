"""Data for the Compare page: the metric comparison (alignsmith.evaluate.compare) and per-item diffs.

The per-item diff lines both runs' items up on (task, item_id, prompt_id), scores each item by its task's
primary metric signed so that a negative delta is always a regression, and lists the pass/fail metrics
that flipped.
"""
from __future__ import annotations

import pandas as pd

from alignsmith.evaluate.results import EvalRun

from .evalruns import PROMPT_COLUMN, RESPONSE_COLUMN, primary_metric
from .widgets import plain_text

KEYS = ["task", "item_id", "prompt_id"]


def metric_table(result: dict) -> pd.DataFrame:
    """compare_runs' per-metric results as a table (one row per `task/metric`)."""
    cols = ["metric", "base", "new", "diff", "ci_low", "ci_high", "p_value", "p_holm", "verdict", "test", "n",
            "higher_is_better"]
    return pd.DataFrame(result["metrics"])[cols]


def _binary_metrics(e: EvalRun, task: str, joined: pd.DataFrame) -> list[str]:
    names = [m["name"] for m in ((e.config.get("tasks") or {}).get(task) or {}).get("metrics") or []]
    out = []
    for m in names:
        cols = [f"{m}__base", f"{m}__new"]
        if all(c in joined for c in cols):
            values = pd.concat([joined[c] for c in cols]).dropna()
            if len(values) and values.isin([0.0, 1.0]).all():
                out.append(m)
    return out


def flips(row: dict, metrics: list[str]) -> str:
    """`-metric` for pass→fail, `+metric` for fail→pass among the item's pass/fail metrics."""
    out = []
    for m in metrics:
        b, n = row.get(f"{m}__base"), row.get(f"{m}__new")
        if b is None or n is None or b != b or n != n or b == n:
            continue
        out.append(f"{'+' if n > b else '-'}{m}")
    return " ".join(out)


def item_diffs(base: EvalRun, new: EvalRun) -> pd.DataFrame:
    """One row per shared item: prompt, both responses, primary scores, signed delta and flipped metrics.

    Sorted worst regression first (the most negative delta, where the delta is oriented so that negative
    means worse whatever the metric's direction).
    """
    if base.items.empty or new.items.empty or not set(KEYS) <= set(base.items) or not set(KEYS) <= set(new.items):
        return pd.DataFrame()
    joined = base.items.merge(new.items, on=KEYS, suffixes=("__base", "__new"))
    rows = []
    for task, group in joined.groupby("task"):
        metric, higher_is_better = primary_metric(base, task)
        binary = _binary_metrics(base, task, group)
        sign = 1.0 if higher_is_better else -1.0
        for r in group.to_dict("records"):
            b = r.get(f"{metric}__base") if metric else None
            n = r.get(f"{metric}__new") if metric else None
            delta = sign * (n - b) if b is not None and n is not None else float("nan")
            rows.append({"task": task, "item_id": r["item_id"], "metric": metric or "",
                         "base_value": b, "new_value": n, "delta": delta, "flipped": flips(r, binary),
                         "prompt": plain_text(r.get(f"{PROMPT_COLUMN}__base")),
                         "base_response": plain_text(r.get(f"{RESPONSE_COLUMN}__base")),
                         "new_response": plain_text(r.get(f"{RESPONSE_COLUMN}__new"))})
    table = pd.DataFrame(rows)
    return table.sort_values(["delta", "task", "item_id"], kind="stable", na_position="last")
