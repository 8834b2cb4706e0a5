"""Pair strategies: which (chosen, rejected) candidate pairs to propose for one prompt.

A strategy only proposes; the rules in `pairs.py` (ties, margin, near-identical, per-prompt cap, length
balance) then accept or drop each proposal with a counted reason, so every strategy is audited the same way.
Candidates reach a strategy sorted best-first by their combined score, each with a float `score`.
"""
from __future__ import annotations

import random
from typing import Any, ClassVar

from ..core.registry import Registry

Proposal = tuple[dict, dict]  # (chosen, rejected)


class PairStrategy:
    """Base class: `propose(ranked, rng)` returns candidate pairs in order of preference."""

    name: ClassVar[str]

    def __init__(self, **options: Any):
        self.options = options

    def propose(self, ranked: list[dict], rng: random.Random) -> list[Proposal]:
        raise NotImplementedError


PAIR_STRATEGIES: Registry[type[PairStrategy]] = Registry("pair strategy")


@PAIR_STRATEGIES.register("best_vs_worst")
class BestVsWorst(PairStrategy):
    """One pair per prompt: the highest-scored candidate against the lowest-scored one."""

    name = "best_vs_worst"

    def propose(self, ranked: list[dict], rng: random.Random) -> list[Proposal]:
        if len(ranked) < 2:
            return []
        return [(ranked[0], ranked[-1])]


@PAIR_STRATEGIES.register("best_vs_random_lower")
class BestVsRandomLower(PairStrategy):
    """The best candidate against a seeded random choice among those scored strictly lower.

    Options: `k` (default 1) distinct rejected candidates per prompt.
    """

    name = "best_vs_random_lower"

    def propose(self, ranked: list[dict], rng: random.Random) -> list[Proposal]:
        if len(ranked) < 2:
            return []
        best = ranked[0]
        lower = [c for c in ranked[1:] if c["score"] < best["score"]]
        if not lower:
            # Everything ties with the best: propose the tie so the tie rule counts it, not a silent skip.
            return [(best, ranked[1])]
        k = min(int(self.options.get("k", 1)), len(lower))
        return [(best, rejected) for rejected in rng.sample(lower, k)]


@PAIR_STRATEGIES.register("all_above_margin")
class AllAboveMargin(PairStrategy):
    """Every ordered pair (higher, lower); the margin rule keeps those above `min_margin`.

    Proposals come largest margin first, so a per-prompt cap keeps the clearest preferences.
    """

    name = "all_above_margin"

    def propose(self, ranked: list[dict], rng: random.Random) -> list[Proposal]:
        pairs = [(ranked[i], ranked[j]) for i in range(len(ranked)) for j in range(i + 1, len(ranked))]
        # Stable sort keeps rank order among equal margins, so output is deterministic.
        return sorted(pairs, key=lambda p: p[0]["score"] - p[1]["score"], reverse=True)


def get_strategy(name: str, **options: Any) -> PairStrategy:
    """Construct a registered pair strategy by name ("did you mean" on a typo)."""
    return PAIR_STRATEGIES.get(name)(**options)
