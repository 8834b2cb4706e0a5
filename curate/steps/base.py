"""Filters: each answers one question about one row and says why it drops it.

`apply_one_filter` splits rows by a filter's reasons, giving every dropped row its `drop_reason`, so no row
disappears without one; the pipeline (`pipeline.run.run_steps_local`) runs filters in order with it and
records the funnel.
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

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


def apply_one_filter(rows: list[dict], part: Filter, reasons: Sequence[str | None]) -> tuple[list[dict], list[dict]]:
    """Split rows by a filter's reasons; dropped rows get `drop_reason` and the reason's extra columns."""
    kept, dropped = [], []
    for row, reason in zip(rows, reasons):
        if reason is None:
            kept.append(row)
        else:
            dropped.append({**row, **getattr(reason, "fields", {}), "drop_reason": f"{part.name}: {reason}"})
    return kept, dropped
