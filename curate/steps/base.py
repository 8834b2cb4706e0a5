"""Filters: each answers one question about one row and says why it drops it.

A pipeline is a plain list of filters; `apply_filters` keeps the funnel counts (rows in, dropped per
filter, rows out) so no row disappears without a recorded reason.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Sequence

from ..core.registry import Registry


class Filter:
    """Base class: `reject(row)` returns a reason to drop the row, or None to keep it."""

    name: ClassVar[str]

    def __init__(self, **options: Any):
        self.options = options

    def reject(self, row: dict) -> str | None:
        raise NotImplementedError

    def reject_batch(self, rows: list[dict]) -> list[str | None]:
        """Batched form; filters with a model override this to score many rows at once."""
        return [self.reject(r) for r in rows]


# The built-in filters by name, imported on first use: this contract never imports its implementations.
BUILTIN_FILTERS = {
    **{name: f"alignsmith.curate.steps.format_filters:{cls}" for name, cls in (
        ("empty", "EmptyResponse"), ("truncated", "Truncated"), ("leakage", "TemplateLeakage"),
        ("repetition", "Repetition"), ("language", "WrongLanguage"), ("json_format", "InvalidJson"),
        ("markdown", "BrokenMarkdown"), ("length", "LengthBounds"))},
    "decontam": "alignsmith.curate.steps.decontam:Decontaminate",
    "dedup": "alignsmith.curate.steps.dedup_filter:Dedup",
    "constraints": "alignsmith.curate.steps.constraints:ConstraintFilter",
    "safety_policy": "alignsmith.curate.safety.policy:SafetyPolicyFilter",
}
FILTERS: Registry[type[Filter]] = Registry("filter", BUILTIN_FILTERS)


class Rejection(str):
    """A drop reason that also carries extra columns for the dropped row (e.g. `duplicate_of`)."""

    fields: dict

    def __new__(cls, reason: str, **fields: Any) -> "Rejection":
        obj = super().__new__(cls, reason)
        obj.fields = fields
        return obj


@dataclass
class Funnel:
    """Counts through a filter pipeline."""

    rows_in: int = 0
    dropped: Counter = field(default_factory=Counter)
    rows_out: int = 0

    def to_dict(self) -> dict:
        return {"rows_in": self.rows_in, "dropped": dict(self.dropped), "rows_out": self.rows_out}


def apply_one_filter(rows: list[dict], part: Filter, reasons: Sequence[str | None]) -> tuple[list[dict], list[dict]]:
    """Split rows by a filter's reasons; dropped rows get `drop_reason` and the reason's extra columns."""
    kept, dropped = [], []
    for row, reason in zip(rows, reasons):
        if reason is None:
            kept.append(row)
        else:
            dropped.append({**row, **getattr(reason, "fields", {}), "drop_reason": f"{part.name}: {reason}"})
    return kept, dropped


def apply_filters(rows: Iterable[dict], filters: list[Filter]) -> tuple[list[dict], list[dict], Funnel]:
    """Run filters in order; return (kept, dropped with `drop_reason`, funnel). First rejection wins."""
    kept = list(rows)
    funnel = Funnel(rows_in=len(kept))
    dropped: list[dict] = []
    for f in filters:
        kept, lost = apply_one_filter(kept, f, f.reject_batch(kept))
        dropped += lost
        funnel.dropped[f.name] = len(lost)  # every filter appears in the funnel, in order, even at 0
    funnel.rows_out = len(kept)
    return kept, dropped, funnel

