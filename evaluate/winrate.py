"""Win rates against a reference: raw (ties count half) and length-controlled.

The length-controlled rate is AlpacaEval-LC's GLM (evaluate.lc_glm): the judge's preference modelled as a
logistic function of a model term plus a tanh-standardised length difference, reported as the predicted
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


def length_controlled_win_rate(outcomes: Sequence[float], model_lengths: Sequence[float],
                               reference_lengths: Sequence[float], *, seed: int = 0,
                               n_boot: int = 200) -> WinRate:
    """Predicted win rate at equal length, with a bootstrap interval over items.

    The AlpacaEval-LC GLM of `lc_glm` for one model: with a single model there is no instruction
    difficulty to estimate and no length variants to regularise with, so the fit has the model term and
    the tanh length term only (AlpacaEval's `length_controlled_minimal`). `alignsmith winrates` fits the
    full model over many models at once.
    """
    import pandas as pd

    from .lc_glm import LCSettings, lc_win_rates
    v = np.asarray(outcomes, dtype=float)
    if v.size == 0:
        return WinRate(float("nan"), float("nan"), float("nan"), 0)
    table = pd.DataFrame({"model": "model", "instruction": np.arange(v.size), "preference": v,
                          "len_model": np.asarray(model_lengths, float),
                          "len_baseline": np.asarray(reference_lengths, float)})
    results, _ = lc_win_rates(table, settings=LCSettings(seed=seed, n_boot=n_boot, min_items=1))
    r = results[0]
    return WinRate(r.lc_win_rate, r.lc_ci_low, r.lc_ci_high, r.n)


def outcome_from_scores(model_score: float, reference_score: float, tie_margin: float = 0.0) -> float:
    """1 if the model's score beats the reference's by more than `tie_margin`, 0 if it loses, 0.5 tie."""
    if model_score - reference_score > tie_margin:
        return 1.0
    if reference_score - model_score > tie_margin:
        return 0.0
    return 0.5
