"""Paired tests hold their level at every n, have the analytic power, and their intervals cover.

Null simulations: base and new answers of an item are drawn from the same distribution (exchangeable),
as when two runs of one checkpoint are assigned to "base" and "new" by a fair coin.
"""
from __future__ import annotations

import itertools
import math
import zlib

import numpy as np
import pytest

from alignsmith.evaluate.paired_tests import (
    PairedInputError,
    paired_interval,
    paired_test,
    sign_flip_pvalue,
    sign_flip_test,
)
from alignsmith.evaluate.power import Spread, items_needed, minimum_detectable_effect, power_at, spread_of_differences
from alignsmith.evaluate.stats import agresti_min_interval, holm, mcnemar_exact

ALPHA = 0.05
REPS = 400
BOUND = ALPHA + 2 * math.sqrt(ALPHA * (1 - ALPHA) / REPS)  # alpha + 2 standard errors of the rate


def null_pair(kind: str, n: int, rng: np.random.Generator):
    """(base, new, weights) for n items with no true difference between the runs."""
    if kind == "binary":
        p = rng.beta(2, 2, n)
        return (rng.random(n) < p).astype(float), (rng.random(n) < p).astype(float), np.ones(n)
    if kind == "fractional":  # IFEval instruction share: k instructions per item, weight k
        k = rng.integers(1, 4, n)
        p = rng.beta(2, 1, n)
        return rng.binomial(k, p) / k, rng.binomial(k, p) / k, k.astype(float)
    item = rng.normal(0, 1, n)  # continuous, skewed noise around an item effect
    return (item + rng.lognormal(0, 0.8, n), item + rng.lognormal(0, 0.8, n),
            rng.integers(1, 6, n).astype(float))


def p_value(kind: str, weighted: bool, b, n, w, seed: int) -> float:
    if kind == "binary" and not weighted:
        return mcnemar_exact(b, n).p_value
    return sign_flip_pvalue(n - b, w if weighted else None, n_resamples=999, seed=seed)[0]


@pytest.mark.parametrize("n", [8, 16, 32, 100])
@pytest.mark.parametrize("kind", ["binary", "fractional", "continuous"])
@pytest.mark.parametrize("weighted", [False, True])
def test_type_one_error_at_most_nominal(kind, weighted, n):
    rng = np.random.default_rng(zlib.crc32(f"{kind}-{weighted}-{n}".encode()))
    rejections = 0
    for rep in range(REPS):
        b, new, w = null_pair(kind, n, rng)
        rejections += p_value(kind, weighted, b, new, w, rep) < ALPHA
    assert rejections / REPS <= BOUND, f"false-alarm rate {rejections / REPS:.3f} > {BOUND:.3f}"


def test_power_matches_the_analytic_value_for_a_normal_shift():
    n, shift, sd = 16, 0.6, 1.0
    rng = np.random.default_rng(7)
    hits = sum(sign_flip_pvalue(rng.normal(shift, sd, n), n_resamples=999, seed=r)[0] < ALPHA for r in range(REPS))
    analytic = power_at(shift, Spread(sd / math.sqrt(n), n, sd), ALPHA)  # paired t, noncentral t
    assert 0.5 < analytic < 0.7
    assert hits / REPS == pytest.approx(analytic, abs=3 * math.sqrt(analytic * (1 - analytic) / REPS) + 0.02)


def test_power_and_sample_size_match_statsmodels():
    from statsmodels.stats.power import TTestPower
    for n, effect in ((16, 0.5), (40, 0.3), (200, 0.1)):
        expected = TTestPower().power(effect_size=effect, nobs=n, alpha=ALPHA, alternative="two-sided")
        assert power_at(effect, Spread(1 / math.sqrt(n), n, 1.0), ALPHA) == pytest.approx(expected, rel=1e-6)
    needed = TTestPower().solve_power(effect_size=0.02 / 0.25, alpha=ALPHA, power=0.8)
    assert items_needed(0.02, 0.25) == math.ceil(needed)
    mde = minimum_detectable_effect(Spread(0.25 / math.sqrt(100), 100, 0.25))
    assert TTestPower().power(effect_size=mde / 0.25, nobs=100, alpha=ALPHA) == pytest.approx(0.8, abs=1e-6)


def test_mcnemar_and_holm_match_statsmodels():
    from statsmodels.stats.contingency_tables import mcnemar
    from statsmodels.stats.multitest import multipletests
    for both, lost, gained, neither in ((20, 9, 1, 5), (3, 4, 7, 2), (10, 0, 3, 1), (5, 12, 12, 5)):
        base = [1] * (both + lost) + [0] * (gained + neither)
        new = [1] * both + [0] * lost + [1] * gained + [0] * neither
        expected = mcnemar([[both, lost], [gained, neither]], exact=True).pvalue
        assert mcnemar_exact(base, new).p_value == pytest.approx(expected, rel=1e-9)
    p = [0.01, 0.04, 0.03, 0.2, 0.005]
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1].tolist())


def test_exact_sign_flip_p_equals_full_enumeration():
    d = np.array([0.5, -0.2, 0.3, 0.1, 0.4, 0.2, -0.1, 0.6, 0.0, 0.25])
    w = np.array([1, 2, 1, 3, 1, 1, 2, 1, 1, 2], dtype=float)
    for weights in (None, w):
        wt = np.ones_like(d) if weights is None else weights
        observed = abs((wt * d).sum())
        flips = [abs((wt * d * np.array(s)).sum()) for s in itertools.product([1, -1], repeat=d.size)]
        expected = np.mean(np.array(flips) >= observed - 1e-12)
        p, method = sign_flip_pvalue(d, weights)
        assert method == "exact" and p == pytest.approx(expected)


def test_agresti_min_by_hand_and_never_zero_width():
    # lost 2, gained 6, n 20: cells +0.5 → b 2.5, c 6.5, n 22.
    lo, hi = agresti_min_interval(2, 6, 20)
    centre, var = 4 / 22, ((2.5 + 6.5) - 16 / 22) / 22 ** 2
    assert (lo, hi) == pytest.approx((centre - 1.959964 * math.sqrt(var), centre + 1.959964 * math.sqrt(var)))
    lo, hi = mcnemar_exact([1] * 10, [1] * 10).ci_low, mcnemar_exact([1] * 10, [1] * 10).ci_high
    assert lo < 0 < hi


@pytest.mark.parametrize("p_lost,p_gained", [(0.1, 0.1), (0.05, 0.25), (0.3, 0.1), (0.02, 0.02), (0.02, 0.1),
                                             (0.05, 0.15), (0.2, 0.4), (0.01, 0.05)])
def test_agresti_min_covers_at_n16(p_lost, p_gained):
    rng = np.random.default_rng(int(1000 * p_lost + 10 * p_gained))
    truth, covered, reps = p_gained - p_lost, 0, 4000
    cells = rng.multinomial(16, [p_lost, p_gained, 1 - p_lost - p_gained], size=reps)
    for lost, gained, _ in cells:
        lo, hi = agresti_min_interval(int(lost), int(gained), 16)
        covered += lo <= truth <= hi
    assert covered / reps >= 0.93


@pytest.mark.parametrize("kind", ["fractional", "continuous"])
@pytest.mark.parametrize("weighted", [False, True])
def test_bootstrap_interval_covers_at_n16(kind, weighted):
    """Intervals of the (weighted) mean difference cover the population value in >= 93% of draws."""
    rng = np.random.default_rng(11)
    shift = 0.1 if kind == "fractional" else 0.3
    # The population value of the (weighted) mean difference, from one very large draw.
    big_b, big_n, big_w = null_pair(kind, 400_000, rng)
    big_n = np.clip(big_n + shift, None, 1.0 if kind == "fractional" else None)
    bw = big_w if weighted else np.ones_like(big_w)
    truth = float((bw * (big_n - big_b)).sum() / bw.sum())
    covered, reps = 0, 600
    for rep in range(reps):
        b, new, w = null_pair(kind, 16, rng)
        new = np.clip(new + shift, None, 1.0 if kind == "fractional" else None)
        lo, hi = paired_interval(new - b, w if weighted else None, n_boot=1000, seed=rep)
        covered += lo <= truth <= hi
    assert covered / reps >= 0.93


def test_bad_input_is_named_not_crashed():
    with pytest.raises(PairedInputError, match="only 1 shared item"):
        paired_test([1.0], [0.0])
    with pytest.raises(PairedInputError, match="NaN"):
        paired_test([0.1, float("nan"), 0.3], [0.2, 0.2, 0.2])
    with pytest.raises(PairedInputError, match="weights differ"):
        paired_test([0.5, 0.25, 1.0], [0.5, 0.5, 1.0], [2, 4, 1], new_weights=[2, 3, 1])
    with pytest.raises(PairedInputError, match="3 weights for 2 items"):
        paired_test([0.5, 0.25], [0.5, 0.5], [2, 4, 1])
    same = sign_flip_test([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    assert same.p_value == 1.0 and same.diff == 0.0


def test_spread_weighted_matches_unweighted_when_weights_equal():
    d = np.array([0.1, -0.3, 0.2, 0.0, 0.4])
    assert spread_of_differences(d, np.full(5, 3.0)).se == pytest.approx(d.std(ddof=1) / math.sqrt(5))


def test_large_slices_use_the_normal_limit_of_the_sign_flip_distribution():
    """Above 2000 items the p-value comes from the sign-flip distribution's normal limit; it agrees with
    scipy's Monte-Carlo permutation test on the same data within Monte-Carlo error."""
    from scipy.stats import permutation_test
    rng = np.random.default_rng(8)
    d = rng.binomial(3, 0.5, 3000) / 3 - rng.binomial(3, 0.52, 3000) / 3
    w = rng.integers(1, 4, 3000).astype(float)
    p, method = sign_flip_pvalue(d, w)
    assert method == "normal"
    ref = permutation_test((d,), lambda x, axis: (x * w).sum(axis=axis), permutation_type="samples",
                           vectorized=True, n_resamples=4999, rng=np.random.default_rng(0)).pvalue
    assert 0.001 < ref < 0.9 and p == pytest.approx(ref, abs=0.02)
    # A few items dominating the variance: back to the permutation test.
    spiky = np.r_[np.full(2999, 0.001), 50.0]
    assert sign_flip_pvalue(spiky, n_resamples=999)[1] == "mc"


@pytest.mark.parametrize("kind", ["binary", "fractional", "continuous"])
def test_normal_limit_holds_its_level_at_3000_items(kind):
    rng = np.random.default_rng(zlib.crc32(kind.encode()))
    rejections, normal = 0, 0
    for rep in range(REPS):
        b, new, w = null_pair(kind, 3000, rng)
        # A heavy-tailed draw where one item carries >1% of the variance falls back to the permutation test.
        p, method = sign_flip_pvalue(new - b, w, n_resamples=199, seed=rep)
        normal += method == "normal"
        rejections += p < ALPHA
    assert normal >= REPS // 2
    assert rejections / REPS <= BOUND
