"""Running the configured scorers on candidates before pairing (reusing scores already on the rows)."""
from __future__ import annotations

import math
from typing import Any

from ..core.config import check_call_options
from ..steps.scoring import SCORERS, Scorer, apply_scorers


def make_scorer(name: str, options: dict | None = None) -> Scorer:
    """Construct the scorer registered as `name` (its module imported on first use); `weight` is not passed on."""
    options = {k: v for k, v in (options or {}).items() if k != "weight"}
    cls = SCORERS.get(name)
    return cls(**check_call_options(cls, options, f"scorer {name!r} option"))


def score_candidates(rows: list[dict], config: Any, scorer_objects: dict[str, Scorer]) -> tuple[list[dict], dict]:
    """Write `scores[name]` for each configured scorer onto `rows` (in place).

    A scorer runs only on rows that lack a finite score of its name, unless `config.rescore`; so a
    curate run's scores are reused and a rerun after adding a scorer pays only for the new one.
    Returns (raw judge records, judge statistics) gathered from scorers that keep them.
    """
    judgements: list[dict] = []
    judge_stats: dict = {}
    names = list(dict.fromkeys([*config.scorers, *scorer_objects]))
    for name in names:
        todo = rows if config.rescore else [r for r in rows if not _has_score(r, name)]
        if not todo:
            continue
        scorer = scorer_objects.get(name) or make_scorer(name, config.scorers.get(name))
        apply_scorers(todo, {name: scorer})
        judgements += list(getattr(scorer, "judgements", []) or [])
        if getattr(scorer, "stats", None):
            judge_stats[name] = dict(scorer.stats)
    return judgements, judge_stats


def _has_score(row: dict, name: str) -> bool:
    value = (row.get("scores") or {}).get(name)
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
