"""Raw and length-controlled win rates."""
from __future__ import annotations

import numpy as np
import pytest

from alignsmith.evaluate.winrate import length_controlled_win_rate, outcome_from_scores, raw_win_rate


def test_raw_win_rate_ties_half():
    r = raw_win_rate([1, 0, 0.5, 0.5])
    assert r.value == 0.5 and r.n == 4 and r.ci_low <= 0.5 <= r.ci_high


def test_longer_but_equal_model_is_near_half():
    # Equal quality; the judge only prefers whichever answer is longer. Raw win rate is inflated,
    # the length-controlled rate should come back near 50%.
    rng = np.random.default_rng(0)
    n = 800
    ref_len = rng.normal(200, 40, n)
    model_len = ref_len + rng.normal(80, 60, n)  # the model is usually longer
    p_win = 1 / (1 + np.exp(-2.0 * np.tanh((model_len - ref_len) / 60)))
    outcomes = (rng.random(n) < p_win).astype(float)
    raw = raw_win_rate(outcomes)
    lc = length_controlled_win_rate(outcomes, model_len, ref_len, n_boot=50)
    assert raw.value > 0.7
    assert lc.value == pytest.approx(0.5, abs=0.07)
    assert lc.ci_low < 0.5 < lc.ci_high


def test_better_model_stays_better_when_length_controlled():
    rng = np.random.default_rng(1)
    n = 600
    ref_len = rng.normal(200, 40, n)
    model_len = ref_len + rng.normal(0, 60, n)
    p_win = 1 / (1 + np.exp(-(1.0 + 1.0 * np.tanh((model_len - ref_len) / 60))))
    outcomes = (rng.random(n) < p_win).astype(float)
    lc = length_controlled_win_rate(outcomes, model_len, ref_len, n_boot=50)
    assert lc.value > 0.65


def test_outcome_from_scores():
    assert outcome_from_scores(2, 1) == 1.0 and outcome_from_scores(1, 2) == 0.0
    assert outcome_from_scores(1.0, 1.05, tie_margin=0.1) == 0.5
