"""The one funnel format: how many rows each step of a stage saw, dropped and left.

A funnel is a list of step entries `{step, kind, rows_in, dropped, rows_after, seconds, rows_per_s}`, in the
order the steps ran. The curate report's `funnel`, the pairs card's `candidates_funnel` and `pairs_funnel`
and the `review` step apply-review appends are all built here, so a reader (the dashboard, `format_funnel`,
card.md) handles one shape. Issue 15: a second shape, `{rows_in, dropped: {step: n}}`, used to be written
next to this one; nothing writes it now.
"""
from __future__ import annotations

from typing import Mapping


def funnel_entry(name: str, kind: str, rows_in: int, dropped: int, seconds: float | None = None) -> dict:
    """One step: rows it saw, dropped and left, its seconds and rows per second (None when untimed)."""
    rate = round(rows_in / seconds, 1) if seconds else None
    return {"step": name, "kind": kind, "rows_in": rows_in, "dropped": dropped, "rows_after": rows_in - dropped,
            "seconds": None if seconds is None else round(seconds, 3), "rows_per_s": rate}


def funnel_from_counts(rows_in: int, dropped: Mapping[str, int], kind: str) -> list[dict]:
    """Untimed entries for drops known only as counts per reason, chained in the mapping's order."""
    entries, left = [], int(rows_in)
    for name, n in dropped.items():
        entries.append(funnel_entry(str(name), kind, left, int(n)))
        left -= int(n)
    return entries


def funnel_metrics(rows_in: int, rows_out: int) -> dict:
    """metrics.json of a run that filters rows (curate, and curate after apply-review): in, out, keep rate."""
    from .runs import metric  # run folders (yaml, subprocess) load only when a run is written
    return {"rows_in": metric(rows_in, higher_is_better=None, n=rows_in),
            "rows_out": metric(rows_out, higher_is_better=None, n=rows_in),
            "keep_rate": metric(rows_out / rows_in if rows_in else None, higher_is_better=None, n=rows_in)}
