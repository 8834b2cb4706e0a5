"""Statistics for eval results: bootstrap intervals, paired tests and multiple-comparison correction.

Every resampling function takes an explicit `seed`, so the same inputs give the same interval.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

DEFAULT_BOOTSTRAPS = 2000


def _as_arrays(values: Sequence[float], weights: Sequence[float] | None) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    if v.shape != w.shape:
        raise ValueError(f"values ({v.shape[0]}) and weights ({w.shape[0]}) differ in length")
    return v, w


def weighted_mean(values: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """Mean of `values`, weighted (e.g. by instructions per prompt); NaN when empty."""
    v, w = _as_arrays(values, weights)
    total = w.sum()
    return float((v * w).sum() / total) if total > 0 else float("nan")


def _resample_means(v: np.ndarray, w: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    # Resampled weighted means, drawn in chunks so 2000 x 10k items stays small in memory.
    means = np.empty(n_boot)
    chunk = max(1, 2_000_000 // max(1, v.size))
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, v.size, size=(min(chunk, n_boot - start), v.size))
        ws = w[idx]
        with np.errstate(invalid="ignore", divide="ignore"):
            means[start:start + idx.shape[0]] = (v[idx] * ws).sum(axis=1) / ws.sum(axis=1)
    return means


def bootstrap_mean_ci(values: Sequence[float], weights: Sequence[float] | None = None, *,
                      level: float = 0.95, n_boot: int = DEFAULT_BOOTSTRAPS,
                      seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of a (weighted) mean, resampling items.

    Hand-written rather than `scipy.stats.bootstrap` because the weighted (ratio) mean and the paired
    difference below must resample whole items, and scipy's default BCa returns NaN on constant data
    (e.g. every item passed), which is common for small eval slices.
    """
    v, w = _as_arrays(values, weights)
    if v.size == 0:
        return float("nan"), float("nan")
    means = _resample_means(v, w, n_boot, np.random.default_rng(seed))
    alpha = (1 - level) / 2
    lo, hi = np.nanquantile(means, [alpha, 1 - alpha])
    return float(lo), float(hi)


@dataclass(frozen=True)
class PairedResult:
    """A paired comparison of two systems on the same items (new minus base)."""

    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    test: str
    base_value: float = float("nan")
    new_value: float = float("nan")
    discordant: tuple[int, int] | None = None  # McNemar: (base pass & new fail, base fail & new pass)


def paired_bootstrap(base: Sequence[float], new: Sequence[float], weights: Sequence[float] | None = None, *,
                     level: float = 0.95, n_boot: int = DEFAULT_BOOTSTRAPS, seed: int = 0) -> PairedResult:
    """Paired bootstrap of mean(new) - mean(base): the same resampled items for both systems.

    The two-sided p-value is twice the smaller share of resampled differences on either side of zero
    (the usual percentile-bootstrap test), floored at 1 / n_boot. That p-value is anti-conservative on
    small slices (about 9% false alarms at n = 16, alpha 0.05): `compare` uses paired_tests.sign_flip_test
    instead; this stays only as the "before" reference of benchmarks/bench_paired_calibration.py.
    """
    b, w = _as_arrays(base, weights)
    n_arr, _ = _as_arrays(new, weights)
    if b.shape != n_arr.shape:
        raise ValueError(f"paired samples differ in length: {b.size} vs {n_arr.size}")
    if b.size == 0:
        raise ValueError("paired bootstrap needs at least one shared item")
    diff = weighted_mean(n_arr, w) - weighted_mean(b, w)
    # Resampling the per-item differences with the item weights equals resampling items for both.
    boots = _resample_means(n_arr - b, w, n_boot, np.random.default_rng(seed))
    alpha = (1 - level) / 2
    lo, hi = np.nanquantile(boots, [alpha, 1 - alpha])
    if np.allclose(n_arr, b):
        p = 1.0
    else:
        p = 2 * min(np.mean(boots <= 0), np.mean(boots >= 0))
        p = float(min(1.0, max(p, 1.0 / n_boot)))
    return PairedResult(float(diff), float(lo), float(hi), p, int(b.size), "paired_bootstrap",
                        weighted_mean(b, w), weighted_mean(n_arr, w))


def mcnemar_exact(base_pass: Sequence[bool | float], new_pass: Sequence[bool | float], *,
                  level: float = 0.95) -> PairedResult:
    """McNemar's exact test on paired pass/fail outcomes, with the Agresti–Min interval of the difference.

    Only discordant pairs carry information: under "no change" each is equally likely to favour either
    system, so the count favouring the new one is Binomial(b + c, 1/2); the p-value is scipy's exact
    two-sided binomial test. The interval is Agresti & Min's (2005) adjusted Wald interval: half a count
    added to each of the four cells before the Wald formula, which covers close to nominal at n = 16 and
    keeps a non-zero width when no pair is discordant (the plain Wald interval covered ~88% there).
    """
    from scipy.stats import binomtest
    b_arr = np.asarray(base_pass, dtype=float) > 0.5
    n_arr = np.asarray(new_pass, dtype=float) > 0.5
    if b_arr.shape != n_arr.shape:
        raise ValueError(f"paired samples differ in length: {b_arr.size} vs {n_arr.size}")
    n = int(b_arr.size)
    if n == 0:
        raise ValueError("McNemar's test needs at least one shared item")
    lost = int(np.sum(b_arr & ~n_arr))   # base passed, new failed
    gained = int(np.sum(~b_arr & n_arr))  # base failed, new passed
    p = 1.0 if lost + gained == 0 else float(binomtest(gained, lost + gained, 0.5).pvalue)
    diff = (gained - lost) / n
    lo, hi = agresti_min_interval(lost, gained, n, level=level)
    return PairedResult(diff, lo, hi, p, n, "mcnemar_exact",
                        float(b_arr.mean()), float(n_arr.mean()), (lost, gained))


def agresti_min_interval(lost: int, gained: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Agresti–Min interval of the paired difference in pass rates (new - base) from the discordant counts."""
    from scipy.stats import norm
    z = float(norm.isf((1 - level) / 2))
    b, c, m = lost + 0.5, gained + 0.5, n + 2.0
    centre = (c - b) / m
    half = z * np.sqrt(max(0.0, (b + c) - (c - b) ** 2 / m)) / m
    return float(max(-1.0, centre - half)), float(min(1.0, centre + half))


def expanded_percentile_alpha(n: int, level: float = 0.95) -> float:
    """Hesterberg's expanded percentile: the tail share whose normal quantile equals sqrt(n/(n-1)) times the
    t quantile with n - 1 degrees of freedom; it widens a percentile bootstrap interval over n resampled
    units (items), which is too narrow when n is small, to t-like width."""
    from scipy.stats import norm, t
    a = (1 - level) / 2
    if n < 2:
        return a
    return float(norm.sf(np.sqrt(n / (n - 1)) * t.isf(a, n - 1)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as the input).

    Written out because it is six lines and scipy has no Holm (statsmodels would be a whole dependency
    for it): sort ascending, multiply the k-th smallest by (m - k), enforce monotonicity, cap at 1.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def is_binary(values: Sequence[float]) -> bool:
    """True when every value is 0 or 1 (a pass/fail metric)."""
    v = np.asarray(values, dtype=float)
    return bool(v.size) and bool(np.all((v == 0) | (v == 1)))
