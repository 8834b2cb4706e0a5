"""Scorers: each writes `scores[name]` on candidate rows; several combine with weights."""
from __future__ import annotations

from typing import Any, ClassVar

from ..core.registry import Registry


class Scorer:
    """Base class: `score_batch(rows)` returns one float per row (higher is better)."""

    name: ClassVar[str]

    def __init__(self, **options: Any):
        self.options = options

    def score_batch(self, rows: list[dict]) -> list[float]:
        raise NotImplementedError


# The built-in scorers by name, imported on first use (torch and vLLM load only for the scorers that need them).
BUILTIN_SCORERS = {
    "verifiers": "alignsmith.curate.steps.constraints:VerifierScorer",
    "safety": "alignsmith.curate.safety.policy:SafetyScorer",
    "judge": "alignsmith.curate.judges.judge:JudgeScorer",
    "reward_model": "alignsmith.curate.judges.reward_scorer:RewardModelScorer",
}
SCORERS: Registry[type[Scorer]] = Registry("scorer", BUILTIN_SCORERS)


def apply_scorers(rows: list[dict], scorers: dict[str, Scorer]) -> None:
    """Add `scores[name]` to every row, in place."""
    for name, scorer in scorers.items():
        values = scorer.score_batch(rows)
        for row, value in zip(rows, values):
            row.setdefault("scores", {})
            row["scores"] = {**(row["scores"] or {}), name: float(value)}

