"""Statistics against hand-computed answers."""
from __future__ import annotations

import math

import numpy as np
import pytest

from alignsmith.evaluate.stats import bootstrap_mean_ci, holm, is_binary, mcnemar_exact, paired_bootstrap, weighted_mean


def _pairs(both, lost, gained, neither):
    """Paired pass/fail vectors for a 2x2 table (base pass & new pass, base pass & new fail, ...)."""
    base = [1] * both + [1] * lost + [0] * gained + [0] * neither
    new = [1] * both + [0] * lost + [1] * gained + [0] * neither
    return base, new


def test_mcnemar_hand_computed_table():
    # Discordant 1 vs 9: two-sided exact p = 2 * P(X <= 1 | n=10, 1/2) = 2 * 11/1024.
    base, new = _pairs(20, 9, 1, 5)
    r = mcnemar_exact(base, new)
    assert r.discordant == (9, 1)
    assert r.p_value == pytest.approx(22 / 1024)
    assert r.diff == pytest.approx((1 - 9) / 35)
    assert r.base_value == pytest.approx(29 / 35) and r.new_value == pytest.approx(21 / 35)


def test_mcnemar_balanced_and_empty_discordance():
    # 3 vs 3 discordant: symmetric, p = 1; no discordant pairs: p = 1.
    assert mcnemar_exact(*_pairs(4, 3, 3, 4)).p_value == pytest.approx(1.0)
    assert mcnemar_exact(*_pairs(10, 0, 0, 2)).p_value == 1.0
    # 0 vs 6: p = 2 * (1/2)^6.
    assert mcnemar_exact(*_pairs(0, 6, 0, 0)).p_value == pytest.approx(2 / 64)


def test_mcnemar_rejects_length_mismatch():
    with pytest.raises(ValueError, match="differ in length"):
        mcnemar_exact([1, 0], [1])


def test_holm_known_values():
    # Sorted p: 0.01*3=0.03, 0.02*2=0.04, 0.04*1=0.04 (monotone), back in input order.
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_bootstrap_ci_contains_mean_and_is_seeded():
    rng = np.random.default_rng(1)
    x = rng.normal(0.3, 1.0, 400)
    lo, hi = bootstrap_mean_ci(x, seed=3)
    assert lo < x.mean() < hi
    # Roughly the normal-theory width 2 * 1.96 * sd / sqrt(n).
    assert hi - lo == pytest.approx(2 * 1.96 * x.std() / math.sqrt(400), rel=0.15)
    assert bootstrap_mean_ci(x, seed=3) == (lo, hi)
    assert bootstrap_mean_ci(x, seed=4) != (lo, hi)


def test_bootstrap_constant_and_weighted():
    assert bootstrap_mean_ci([1, 1, 1]) == (1.0, 1.0)
    # Weighted mean is a ratio of sums: (1*3 + 0*1) / 4.
    assert weighted_mean([1, 0], [3, 1]) == 0.75
    lo, hi = bootstrap_mean_ci([1, 0], [3, 1])
    assert 0 <= lo <= 0.75 <= hi <= 1


def test_paired_bootstrap_detects_shift_and_not_noise():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 300)
    shifted = paired_bootstrap(base, base - 0.3 + rng.normal(0, 0.2, 300), seed=0)
    assert shifted.diff < 0 and shifted.ci_high < 0 and shifted.p_value < 0.01
    same = paired_bootstrap(base, base, seed=0)
    assert same.diff == 0 and same.p_value == 1.0


def test_is_binary():
    assert is_binary([0, 1, 1.0]) and not is_binary([0, 0.5]) and not is_binary([])
