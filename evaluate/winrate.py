"""Win rates against a reference: raw (ties count half) and length-controlled.

The length-controlled rate follows AlpacaEval-LC's idea: model the judge's preference as a logistic
function of a quality term (intercept) plus a term in the length difference, then report the predicted
win rate at zero length difference, i.e. what the judge would say if both answers were equally long.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .stats import bootstrap_mean_ci


@dataclass(frozen=True)
class WinRate:
    """A win rate with its bootstrap interval."""

    value: float
    ci_low: float
    ci_high: float
    n: int


def raw_win_rate(outcomes: Sequence[float], *, seed: int = 0, n_boot: int = 2000) -> WinRate:
    """Mean outcome (1 win, 0.5 tie, 0 loss) with a bootstrap interval over items."""
    v = np.asarray(outcomes, dtype=float)
    if v.size == 0:
        return WinRate(float("nan"), float("nan"), float("nan"), 0)
    lo, hi = bootstrap_mean_ci(v, seed=seed, n_boot=n_boot)
    return WinRate(float(v.mean()), lo, hi, int(v.size))


def length_feature(model_lengths: Sequence[float], reference_lengths: Sequence[float]) -> np.ndarray:
    """Length difference squashed to (-1, 1): tanh((len_model - len_ref) / std), as AlpacaEval-LC does.

    The squashing keeps a few very long answers from dominating the fit.
    """
    d = np.asarray(model_lengths, dtype=float) - np.asarray(reference_lengths, dtype=float)
    scale = d.std()
    return np.tanh(d / scale) if scale > 0 else np.zeros_like(d)


def _fit_lc(outcomes: np.ndarray, feature: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    # Each item contributes a "win" row weighted by its outcome and a "loss" row by 1 - outcome,
    # so ties count as half a win without being thrown away.
    x = np.concatenate([feature, feature])[:, None]
    y = np.concatenate([np.ones_like(outcomes), np.zeros_like(outcomes)])
    w = np.concatenate([outcomes, 1.0 - outcomes])
    keep = w > 0
    if len(set(y[keep].tolist())) < 2:
        return float(outcomes.mean())  # all wins or all losses: nothing to control for
    # Mild L2 on the length slope (C=10) acts as a weak prior; lbfgs leaves the intercept unpenalised.
    model = LogisticRegression(C=10.0, tol=1e-8, max_iter=1000)
    model.fit(x[keep], y[keep], sample_weight=w[keep])
    return float(1.0 / (1.0 + np.exp(-model.intercept_[0])))


def length_controlled_win_rate(outcomes: Sequence[float], model_lengths: Sequence[float],
                               reference_lengths: Sequence[float], *, seed: int = 0,
                               n_boot: int = 200) -> WinRate:
    """Predicted win rate at zero length difference, with a bootstrap interval over items."""
    v = np.asarray(outcomes, dtype=float)
    if v.size == 0:
        return WinRate(float("nan"), float("nan"), float("nan"), 0)
    f = length_feature(model_lengths, reference_lengths)
    value = _fit_lc(v, f)
    rng = np.random.default_rng(seed)
    boots = [_fit_lc(v[idx], f[idx]) for idx in rng.integers(0, v.size, size=(n_boot, v.size))]
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return WinRate(value, float(lo), float(hi), int(v.size))


def outcome_from_scores(model_score: float, reference_score: float, tie_margin: float = 0.0) -> float:
    """1 if the model's score beats the reference's by more than `tie_margin`, 0 if it loses, 0.5 tie."""
    if model_score - reference_score > tie_margin:
        return 1.0
    if reference_score - model_score > tie_margin:
        return 0.0
    return 0.5
