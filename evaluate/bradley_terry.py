"""Bradley-Terry ratings from pairwise outcomes, fitted as a logistic regression (as Chatbot Arena does).

P(a beats b) = sigmoid(s_a - s_b). Each comparison is one row with +1 in a's column and -1 in b's; a
tie enters twice, once as a win and once as a loss, each with weight 1/2. Ratings are reported on the
log-odds scale and centred to mean zero (only differences are identified).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .stats import expanded_percentile_alpha

Comparison = tuple[str, str, float]  # (player_a, player_b, outcome for a: 1 win, 0 loss, 0.5 tie)


@dataclass
class Ratings:
    """Fitted ratings with bootstrap intervals, best first."""

    players: list[str]
    rating: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_comparisons: int
    extra: dict = field(default_factory=dict)

    def table(self) -> list[dict]:
        """Rows {player, rating, ci_low, ci_high}, highest rating first."""
        order = np.argsort(-self.rating, kind="stable")
        return [{"player": self.players[i], "rating": float(self.rating[i]),
                 "ci_low": float(self.ci_low[i]), "ci_high": float(self.ci_high[i])} for i in order]


def _encode(comparisons: Sequence[Comparison], index: dict[str, int]):
    """Per comparison: integer ids of a and b and the outcome for a."""
    ia = np.array([index[a] for a, _, _ in comparisons], dtype=int)
    ib = np.array([index[b] for _, b, _ in comparisons], dtype=int)
    out = np.array([float(o) for _, _, o in comparisons])
    return ia, ib, out


def _fit_weighted(ia: np.ndarray, ib: np.ndarray, out: np.ndarray, counts: np.ndarray,
                  n_players: int) -> np.ndarray:
    """Fit from comparisons each used `counts[k]` times, collapsed to one win row and one loss row per
    ordered pair, so the regression's size depends on the number of pairs, not of games."""
    from sklearn.linear_model import LogisticRegression
    pair = ia * n_players + ib
    wins = np.bincount(pair, weights=counts * out, minlength=n_players ** 2)
    losses = np.bincount(pair, weights=counts * (1.0 - out), minlength=n_players ** 2)
    rows, labels, weights = [], [], []
    for code in np.flatnonzero((wins > 0) | (losses > 0)):
        a, b = divmod(int(code), n_players)
        vec = np.zeros(n_players)
        vec[a], vec[b] = 1.0, -1.0
        for label, weight in ((1.0, wins[code]), (0.0, losses[code])):
            if weight > 0:
                rows.append(vec)
                labels.append(label)
                weights.append(weight)
    if len(set(labels)) < 2:
        # Everyone won (or lost) every game: the MLE is infinite; report the tie point.
        return np.zeros(n_players)
    # A very weak L2 penalty keeps the fit finite when one player won every game it played.
    model = LogisticRegression(fit_intercept=False, C=1e4, tol=1e-8, max_iter=1000)
    model.fit(np.array(rows), np.array(labels), sample_weight=np.array(weights))
    s = model.coef_[0]
    return s - s.mean()


def fit_strengths(comparisons: Sequence[Comparison], players: Sequence[str]) -> np.ndarray:
    """Maximum-likelihood BT log-strengths (mean zero) with scikit-learn's logistic regression."""
    index = {p: i for i, p in enumerate(players)}
    ia, ib, out = _encode(comparisons, index)
    return _fit_weighted(ia, ib, out, np.ones(len(out)), len(players))


def validate_comparisons(comparisons: Sequence[Comparison]) -> list[str]:
    """Players in first-seen order; outcomes outside [0, 1] or self-play raise ValueError."""
    players: dict[str, None] = {}
    for i, (a, b, outcome) in enumerate(comparisons):
        if a == b:
            raise ValueError(f"comparison {i}: {a!r} is compared with itself")
        if not 0.0 <= float(outcome) <= 1.0:
            raise ValueError(f"comparison {i}: outcome {outcome} is not in [0, 1] (1 win, 0.5 tie, 0 loss)")
        players.setdefault(a)
        players.setdefault(b)
    return list(players)


def cluster_counts(clusters: Sequence, n_boot: int, seed: int) -> np.ndarray:
    """n_boot x len(clusters) multiplicities: whole clusters (items) drawn with replacement, each comparison
    used as often as its cluster was drawn. Comparisons of one item share the item's difficulty and answers,
    so resampling single comparisons would treat them as independent and give intervals too narrow."""
    codes, uniques = _factorize(clusters)
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, len(codes)))
    for i in range(n_boot):
        drawn = np.bincount(rng.integers(0, len(uniques), size=len(uniques)), minlength=len(uniques))
        out[i] = drawn[codes]
    return out


def _factorize(values: Sequence) -> tuple[np.ndarray, list]:
    index: dict = {}
    codes = np.array([index.setdefault(v, len(index)) for v in values], dtype=int)
    return codes, list(index)


def bradley_terry(comparisons: Sequence[Comparison], *, n_boot: int = 200, level: float = 0.95,
                  seed: int = 0, clusters: Sequence | None = None) -> Ratings:
    """BT ratings with percentile-bootstrap intervals.

    `clusters` names the item each comparison came from; the bootstrap then resamples items (all of an
    item's comparisons together). Without it every comparison is its own cluster.
    """
    players = validate_comparisons(comparisons)
    if not players:
        raise ValueError("no comparisons to rate")
    if clusters is not None and len(clusters) != len(comparisons):
        raise ValueError(f"{len(clusters)} cluster labels for {len(comparisons)} comparisons")
    index = {p: i for i, p in enumerate(players)}
    ia, ib, out = _encode(comparisons, index)
    rating = _fit_weighted(ia, ib, out, np.ones(len(out)), len(players))
    counts = cluster_counts(range(len(out)) if clusters is None else clusters, n_boot, seed)
    boots = np.array([_fit_weighted(ia, ib, out, c, len(players)) for c in counts]).reshape(n_boot, len(players))
    n_items = len(set(clusters)) if clusters is not None else len(out)
    # Expanded percentile over the resampled units: with a few dozen items the plain one is too narrow.
    alpha = expanded_percentile_alpha(n_items, level)
    lo, hi = np.quantile(boots, [alpha, 1 - alpha], axis=0)
    return Ratings(players, rating, lo, hi, len(out), {"resampled": "items" if clusters is not None
                                                       else "comparisons", "n_items": n_items})


def win_rate_matrix(comparisons: Sequence[Comparison]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(players, rate, count): rate[i, j] = share of i's games against j that i won (ties half), NaN if none."""
    players = validate_comparisons(comparisons)
    index = {p: i for i, p in enumerate(players)}
    wins = np.zeros((len(players), len(players)))
    games = np.zeros_like(wins)
    for a, b, outcome in comparisons:
        i, j = index[a], index[b]
        wins[i, j] += outcome
        wins[j, i] += 1.0 - outcome
        games[i, j] += 1
        games[j, i] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(games > 0, wins / games, np.nan)
    return players, rate, games
