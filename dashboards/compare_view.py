"""Data for the Compare page: the metric comparison (alignsmith.evaluate.compare) and per-item diffs.

The per-item diff lines both runs' items up on (task, item_id, prompt_id) — and the sample index when runs
drew several answers per item (`eval run --samples`), so sample k meets sample k rather than every other
sample — scores each item by its task's
primary metric signed so that a negative delta is always a regression, and lists the pass/fail metrics
that flipped.
"""
from __future__ import annotations

import pandas as pd

from alignsmith.evaluate.results import EvalRun

from .evalruns import PROMPT_COLUMN, RESPONSE_COLUMN, primary_metric

KEYS = ["task", "item_id", "prompt_id"]


def metric_table(result: dict) -> pd.DataFrame:
    """compare_runs' per-metric results as a table (one row per `task/metric`): test, p, Holm p, interval,
    minimum detectable effect, noise floor and notes; columns a saved older compare.json lacks stay empty."""
    cols = ["metric", "base", "new", "diff", "ci_low", "ci_high", "p_value", "p_holm", "mde", "noise_floor",
            "verdict", "test", "n", "higher_is_better", "note"]
    table = pd.DataFrame(result["metrics"]).reindex(columns=cols)
    for col in ("base", "new", "diff", "ci_low", "ci_high", "p_value", "p_holm", "mde", "noise_floor"):
        table[col] = pd.to_numeric(table[col], errors="coerce")
    # Two-level view (several samples per item): the share of a single answer's variance that is sampling noise.
    table["sampling_share"] = [(r.get("variance") or {}).get("sampling_share") for r in result["metrics"]]
    table["sampling_share"] = pd.to_numeric(table["sampling_share"], errors="coerce")
    return table


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


def flips(group: pd.DataFrame, metrics: list[str]) -> pd.Series:
    """Per row: `-metric` for pass→fail, `+metric` for fail→pass among the item's pass/fail metrics."""
    out = pd.Series("", index=group.index)
    for m in metrics:
        b, n = group[f"{m}__base"], group[f"{m}__new"]
        changed = b.notna() & n.notna() & (b != n)
        mark = pd.Series("", index=group.index).mask(changed & (n > b), f"+{m} ").mask(changed & (n < b), f"-{m} ")
        out = out + mark
    return out.str.strip()


def item_diffs(base: EvalRun, new: EvalRun) -> pd.DataFrame:
    """One row per shared item: prompt, both responses, primary values, signed delta and flipped metrics.

    Sorted worst regression first (the most negative delta, where the delta is oriented so that negative
    means worse whatever the metric's direction). Prompts stay as stored (chat messages); tables flatten
    them to text only for the rows on screen, so a 100k-item comparison is built in vectorised steps.
    """
    if base.items.empty or new.items.empty or not set(KEYS) <= set(base.items) or not set(KEYS) <= set(new.items):
        return pd.DataFrame()
    keys = KEYS + (["sample"] if "sample" in base.items and "sample" in new.items else [])
    joined = base.items.merge(new.items, on=keys, suffixes=("__base", "__new"))
    parts = []
    for task, group in joined.groupby("task", sort=True):
        metric, higher_is_better = primary_metric(base, task)
        has = bool(metric) and f"{metric}__base" in group and f"{metric}__new" in group
        b = group[f"{metric}__base"].astype(float) if has else pd.Series(float("nan"), index=group.index)
        n = group[f"{metric}__new"].astype(float) if has else pd.Series(float("nan"), index=group.index)
        column = lambda name, group=group: group[name] if name in group else pd.Series("", index=group.index)  # noqa: E731
        parts.append(pd.DataFrame({
            "task": task, "item_id": group["item_id"],
            **({"sample": group["sample"]} if "sample" in group else {}),
            "metric": metric or "", "base_value": b, "new_value": n,
            "delta": (n - b) * (1.0 if higher_is_better else -1.0),
            "flipped": flips(group, _binary_metrics(base, task, group)),
            "prompt": column(f"{PROMPT_COLUMN}__base"), "base_response": column(f"{RESPONSE_COLUMN}__base"),
            "new_response": column(f"{RESPONSE_COLUMN}__new")}))
    table = pd.concat(parts, ignore_index=True)
    return table.sort_values(["delta", "task", "item_id"], kind="stable", na_position="last")
