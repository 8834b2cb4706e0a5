"""Bradley-Terry with style control (Chatbot Arena's method, Li et al. 2024, "Controlling for Style").

The logistic regression of who won gets, beside the +1/-1 player columns, one column per style feature:
the difference between the two answers' feature values, normalised by their sum ((a - b) / (a + b), so it
lies in [-1, 1]) and scaled to unit root-mean-square over the comparisons (FastChat also centres it; see
style_differences for why this does not). The player coefficients are then ratings with the effect of
length and markdown held fixed; the feature coefficients say how much each style feature buys.
Features: answer length in words (FastChat counts tokens; words need no tokenizer and keep this module
light), markdown headers, list items, bold spans. A comparison without both texts gets zero differences.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from .bradley_terry import Comparison, Ratings, cluster_counts, validate_comparisons
from .stats import expanded_percentile_alpha

STYLE_FEATURES = ("length", "headers", "list_items", "bold")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s+\S", re.MULTILINE)
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")


def style_counts(text: str | None) -> np.ndarray | None:
    """(words, headers, list items, bold spans) of one answer; None when there is no text."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    text = str(text)
    return np.array([len(text.split()), len(_HEADER.findall(text)), len(_LIST.findall(text)),
                     len(_BOLD.findall(text))], dtype=float)


def style_differences(pairs: Sequence[tuple[str | None, str | None]]) -> np.ndarray:
    """n x 4 scaled normalised differences (a - b) / (a + b) for (text_a, text_b) pairs."""
    out = np.zeros((len(pairs), len(STYLE_FEATURES)))
    for k, (ta, tb) in enumerate(pairs):
        ca, cb = style_counts(ta), style_counts(tb)
        if ca is None or cb is None:
            continue
        total = ca + cb
        out[k] = np.divide(ca - cb, total, out=np.zeros_like(total), where=total > 0)
    # Scaled to unit root-mean-square but not centred: the difference must stay antisymmetric (swapping a and
    # b flips its sign), and here a is not a random side as in the Arena, so a mean shift would act as an
    # intercept that player ratings cannot absorb and would bend them. A feature that never differs (no
    # markdown anywhere) gets a zero column rather than a division by zero.
    rms = np.sqrt((out ** 2).mean(axis=0))
    return np.divide(out, rms, out=np.zeros_like(out), where=rms > 0)


def _design(ia, ib, feats, n_players):
    """One row per comparison: +1 in a's column, -1 in b's, then the style differences."""
    x = np.zeros((len(ia), n_players + feats.shape[1]))
    x[np.arange(len(ia)), ia] = 1.0
    x[np.arange(len(ia)), ib] = -1.0
    x[:, n_players:] = feats
    return x


def _fit(x, y, counts, n_players, start=None, ridge: float = 1e-4, max_iter: int = 100) -> np.ndarray:
    """Logistic regression by Newton's method, outcome y in [0, 1] (a tie is half a win and half a loss),
    comparison k used counts[k] times, and the same very weak L2 penalty as the plain fit (C = 1e4).

    Hand-written rather than scikit-learn's LogisticRegression: on 100k comparisons lbfgs takes ~1.5 s a fit
    and the bootstrap needs 100-200 fits; with only players + 4 columns a Newton step is one small solve,
    and started from the full-data estimate a resample converges in a few steps. Agrees with scikit-learn
    to 1e-5 (tests/evaluate/test_style_control.py).
    """
    from scipy.special import expit
    beta = np.zeros(x.shape[1]) if start is None else start.copy()
    eye = ridge * np.eye(x.shape[1])
    for _ in range(max_iter):
        p = expit(x @ beta)
        grad = x.T @ (counts * (y - p)) - ridge * beta
        hess = (x * (counts * p * (1 - p))[:, None]).T @ x + eye
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-9:
            break
    out = beta.copy()
    out[:n_players] -= out[:n_players].mean()
    return out


def style_controlled_bt(comparisons: Sequence[Comparison], texts: Sequence[tuple[str | None, str | None]], *,
                        clusters: Sequence | None = None, n_boot: int = 200, level: float = 0.95,
                        seed: int = 0) -> Ratings:
    """Style-controlled BT ratings; bootstrap resamples `clusters` (items); extra['style'] has the feature
    coefficients with their intervals."""
    players = validate_comparisons(comparisons)
    if len(texts) != len(comparisons):
        raise ValueError(f"{len(texts)} answer pairs for {len(comparisons)} comparisons")
    index = {p: i for i, p in enumerate(players)}
    ia = np.array([index[a] for a, _, _ in comparisons], dtype=int)
    ib = np.array([index[b] for _, b, _ in comparisons], dtype=int)
    out = np.array([float(o) for _, _, o in comparisons])
    x = _design(ia, ib, style_differences(texts), len(players))
    coef = _fit(x, out, np.ones(len(out)), len(players))
    counts = cluster_counts(range(len(out)) if clusters is None else clusters, n_boot, seed)
    boots = np.array([_fit(x, out, c, len(players), start=coef) for c in counts]).reshape(n_boot, x.shape[1])
    a = expanded_percentile_alpha(len(set(clusters)) if clusters is not None else len(out), level)
    lo, hi = np.quantile(boots, [a, 1 - a], axis=0)
    p = len(players)
    style = {name: {"coef": float(coef[p + k]), "ci_low": float(lo[p + k]), "ci_high": float(hi[p + k])}
             for k, name in enumerate(STYLE_FEATURES)}
    return Ratings(players, coef[:p], lo[:p], hi[:p], len(out), {"style": style})
