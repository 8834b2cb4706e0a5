"""Eval tasks: a small base class and a registry keyed by name (`ifeval`, `constraints`, `safety`, `winrate`).

A task lists its items, scores one response per item into named per-item values, and says how each
named value aggregates into a run metric (mean, or a weighted mean) and whether higher is better.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

from alignsmith.curate.core.paths import data_root
from alignsmith.curate.core.records import EvalItem  # noqa: F401  (tasks name it here)
from alignsmith.curate.core.registry import Registry
from alignsmith.curate.core.runs import metric

from .stats import bootstrap_mean_ci, weighted_mean


def data_path(option: str | os.PathLike | None, default_relative: str, what: str) -> Path:
    """The user's path if given, else the default under data_root(); a missing file names both."""
    path = Path(option) if option else data_root() / default_relative
    if not path.exists():
        raise FileNotFoundError(
            f"{what} not found at {path}; pass the path as a task option (eval run --set TASK.OPTION=PATH) "
            f"or set $ALIGNSMITH_DATA to the folder that holds {default_relative}")
    return path


@dataclass
class EvalSample:
    """An item with the response being scored."""

    item: EvalItem
    response: str
    finish_reason: str = "stop"
    sample: int = 0                 # which of the item's sampled responses this is


@dataclass(frozen=True)
class MetricSpec:
    """How one per-item value aggregates: a (weighted) mean, and which direction is better."""

    name: str
    higher_is_better: bool
    weight: str | None = None       # per-item column holding the weight (e.g. instructions per prompt)
    description: str = ""


class Task:
    """Base class. Subclasses set name/version/metrics and implement `items` and `score`."""

    name: ClassVar[str]
    version: ClassVar[str]
    metrics: ClassVar[tuple[MetricSpec, ...]]
    primary: ClassVar[str]          # per-item value used for head-to-head comparisons (leaderboard)
    default_max_tokens: ClassVar[int] = 256

    def __init__(self, **options: Any):
        self.options = options

    def items(self) -> list[EvalItem]:
        """All items of the task, in a fixed order (slices take a prefix)."""
        raise NotImplementedError

    def score(self, sample: EvalSample) -> dict[str, float | None]:
        """Per-item values by metric name (None where a metric does not apply to this item)."""
        raise NotImplementedError

    def score_batch(self, samples: Sequence[EvalSample]) -> list[dict[str, float | None]]:
        """Score many samples; override when a scorer is faster in batches (classifiers, judges)."""
        return [self.score(s) for s in samples]

    def attach(self, *, model: str | None = None, backend: Any = None) -> None:
        """Hook: the runner offers the evaluated model and its backend (judges may reuse them)."""

    def settings(self) -> dict:
        """Options that change results, recorded in the run's config."""
        return {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in sorted(self.options.items())}

    def aggregate(self, rows: Sequence[dict], *, seed: int = 0) -> dict[str, dict]:
        """metrics.json entries `<task>/<metric>` from scored item rows (bootstrap 95% intervals)."""
        out = {}
        rows = item_means(rows)
        for spec in self.metrics:
            values, weights = [], []
            for row in rows:
                v = row.get(spec.name)
                if v is None or v != v:  # None or NaN: the metric does not apply to this item
                    continue
                values.append(float(v))
                weights.append(float(row.get(spec.weight) or 0.0) if spec.weight else 1.0)
            if not values:
                out[f"{self.name}/{spec.name}"] = metric(None, higher_is_better=spec.higher_is_better, n=0)
                continue
            value = weighted_mean(values, weights)
            ci = bootstrap_mean_ci(values, weights, seed=seed)
            out[f"{self.name}/{spec.name}"] = metric(value, higher_is_better=spec.higher_is_better,
                                                      n=len(values), ci=ci, weight=spec.weight)
        return out


def item_means(rows: Sequence[dict]) -> list[dict]:
    """One row per item: with several sampled responses per item, each value is their mean (None ignored).

    Intervals and tests then resample items, not samples: samples of one prompt are not independent.
    """
    groups: dict[tuple, list[dict]] = {}
    for i, row in enumerate(rows):
        # Rows without an item id (bare score dicts) are their own items.
        key = (row.get("task"), row["item_id"]) if row.get("item_id") is not None else ("#row", i)
        groups.setdefault(key, []).append(row)
    if all(len(g) == 1 for g in groups.values()):
        return list(rows)
    merged = []
    for group in groups.values():
        row = dict(group[0])
        for key, value in group[0].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) or value is None:
                present = [float(r[key]) for r in group if isinstance(r.get(key), (int, float)) and r[key] == r[key]]
                row[key] = sum(present) / len(present) if present else None
        merged.append(row)
    return merged


# Built-in tasks by name, imported on first use: keeps `alignsmith --help` fast, lets a task's optional
# dependencies stay optional, and this contract never imports its implementations.
BUILTIN_TASKS = {"ifeval": "alignsmith.evaluate.task_ifeval:IFEvalTask",
                 "constraints": "alignsmith.evaluate.task_ifeval:ConstraintsTask",
                 "safety": "alignsmith.evaluate.task_safety:SafetyTask",
                 "winrate": "alignsmith.evaluate.task_winrate:WinRateTask"}
TASKS: Registry[type[Task]] = Registry("eval task", BUILTIN_TASKS)


def load_builtin_tasks() -> None:
    """Import every built-in task (TASKS already lists their names; this loads the classes)."""
    for name in BUILTIN_TASKS:
        TASKS.get(name)


def get_task(name: str, **options: Any) -> Task:
    """Construct a task by name; unknown names raise with the closest known names."""
    cls = TASKS.get(name)
    if any("OPTIONS" in vars(k) for k in cls.__mro__):  # tasks that declare their options get them checked
        from alignsmith.curate.core.config import check_call_options
        options = check_call_options(cls, options, f"eval task {name!r} option")
    return cls(**options)


def interleave(groups: Sequence[Sequence[EvalItem]]) -> list[EvalItem]:
    """Round-robin over groups, so any prefix (a --limit slice) covers every group evenly."""
    out: list[EvalItem] = []
    longest = max((len(g) for g in groups), default=0)
    for i in range(longest):
        out.extend(g[i] for g in groups if i < len(g))
    return out
