"""Power, minimum detectable effect, items needed, and the sampling-noise floor of a comparison.

Power is computed for a two-sided paired t-test on the per-item differences (noncentral t), the textbook
approximation of the sign-flip permutation test and McNemar's test that `compare` runs: for a normal shift
the permutation test's power matches it within Monte-Carlo error (tests/evaluate/test_paired_calibration.py).
Weighted metrics use the ratio estimator's standard error and the effective number of items
(sum w)^2 / sum w^2. Light imports only (numpy, scipy): the dashboard reads this module.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_POWER = 0.8


@dataclass(frozen=True)
class Spread:
    """Per-item spread of paired differences: what power and sample-size planning need."""

    se: float      # standard error of the (weighted) mean difference
    n_eff: float   # effective number of items
    sd: float      # per-item standard deviation (se * sqrt(n_eff))


def spread_of_differences(d: np.ndarray, w: np.ndarray | None = None) -> Spread:
    """SE of the (weighted) mean of d (ratio-estimator variance with the n/(n-1) correction)."""
    d = np.asarray(d, dtype=float)
    w = np.ones_like(d) if w is None else np.asarray(w, dtype=float)
    n = d.size
    mean = (w * d).sum() / w.sum()
    var = (w ** 2 * (d - mean) ** 2).sum() / w.sum() ** 2 * n / max(1, n - 1)
    n_eff = float(w.sum() ** 2 / (w ** 2).sum())
    se = float(np.sqrt(var))
    return Spread(se, n_eff, se * np.sqrt(n_eff))


def spread_of_discordance(lost: int, gained: int, n: int) -> Spread:
    """Spread of a pass/fail difference from McNemar's counts, with half a count added to each cell
    (as the Agresti–Min interval does) so that a table with no discordant pair still has a spread."""
    m = n + 2.0
    psi, delta = (lost + gained + 1.0) / m, (gained - lost) / m
    sd = float(np.sqrt(max(psi - delta ** 2, 1e-12)))
    return Spread(sd / np.sqrt(n), float(n), sd)


def power_at(effect: float, spread: Spread, alpha: float = 0.05) -> float:
    """Power of the two-sided paired test to detect a true mean difference `effect`."""
    from scipy.stats import nct, t
    df = max(1.0, spread.n_eff - 1)
    if spread.se <= 0:
        return float("nan")
    crit = t.isf(alpha / 2, df)
    nc = abs(effect) / spread.se
    with np.errstate(all="ignore"):
        p = float(nct.sf(crit, df, nc) + nct.cdf(-crit, df, nc))
    if not np.isfinite(p):  # scipy's noncentral t gives NaN far in the tail: the shifted-t limit
        p = float(t.sf(crit - nc, df) + t.cdf(-crit - nc, df))
    return min(1.0, p)


def minimum_detectable_effect(spread: Spread, alpha: float = 0.05, power: float = DEFAULT_POWER) -> float:
    """The smallest |difference| this comparison detects with the given power (NaN without spread)."""
    from scipy.optimize import brentq
    if not spread.se > 0:
        return float("nan")
    hi = spread.se
    while power_at(hi, spread, alpha) < power:
        hi *= 2
        if hi > 1e6 * spread.se:
            return float("nan")
    return float(brentq(lambda x: power_at(x, spread, alpha) - power, 0.0, hi, xtol=1e-10 * hi))


def items_needed(effect: float, sd: float, alpha: float = 0.05, power: float = DEFAULT_POWER,
                 max_items: int = 10_000_000) -> int:
    """Smallest number of items for which a difference `effect` is detected with `power`, given the
    per-item standard deviation of paired differences `sd` (from a pilot comparison)."""
    if not (effect and sd > 0):
        raise ValueError("items_needed needs a non-zero effect and a positive spread of differences")

    def ok(n: int) -> bool:
        return power_at(effect, Spread(sd / np.sqrt(n), float(n), sd), alpha) >= power
    hi = 2
    while not ok(hi):
        hi *= 2
        if hi > max_items:
            raise ValueError(f"more than {max_items} items would be needed to detect {effect}")
    lo = hi // 2
    while hi - lo > 1:  # power grows with n: bisect for the first n that reaches it
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return max(2, hi)


def per_sample_means(items, column: str, weight: str | None = None) -> np.ndarray:
    """The metric of each sample index (`eval run --samples k`): k numbers whose spread is run-to-run noise."""
    if "sample" not in items or items.empty:
        return np.array([])
    out = []
    for _, group in items.dropna(subset=[column]).groupby("sample"):
        w = group[weight].to_numpy(float) if weight and weight in group else None
        v = group[column].to_numpy(float)
        w = np.ones_like(v) if w is None else w
        out.append(float((v * w).sum() / w.sum()) if w.sum() > 0 else np.nan)
    return np.asarray(out, dtype=float)


def noise_floor(base_means: np.ndarray, new_means: np.ndarray, z: float = 1.959963984540054) -> float | None:
    """Half-width of the run-to-run noise of (mean over k samples of new) - (same of base), from the spread
    between sample indices; None when neither run has two samples. A run with one sample is assumed as
    noisy as the other (same model family, same decoding)."""
    sds = {name: (float(np.std(m, ddof=1)), m.size) for name, m in (("b", base_means), ("n", new_means))
           if m.size >= 2}
    if not sds:
        return None
    fallback = next(iter(sds.values()))[0]
    var = 0.0
    for name, m in (("b", base_means), ("n", new_means)):
        sd, k = sds.get(name, (fallback, max(1, m.size)))
        var += sd ** 2 / k
    return float(z * np.sqrt(var))


def variance_components(diffs: np.ndarray) -> dict:
    """Two-level view of paired differences per (item, sample), an items x k array (k >= 2).

    One-way random-effects ANOVA: `within` is the sampling noise between answers to the same item,
    `between` the variance of the items' true differences; `sampling_share` is within / (within + between),
    the share of a single answer's variance that is sampling noise, and `mean_noise_share` the share of
    the variance of the item means (what the test sees) that is still sampling noise after averaging k.
    """
    d = np.asarray(diffs, dtype=float)
    items, k = d.shape
    if k < 2 or items < 2:
        raise ValueError("variance components need at least 2 items and 2 samples per item")
    item_means = d.mean(axis=1)
    msw = float(((d - item_means[:, None]) ** 2).sum() / (items * (k - 1)))
    msb = float(k * ((item_means - item_means.mean()) ** 2).sum() / (items - 1))
    between = max(0.0, (msb - msw) / k)
    total = between + msw
    share = msw / total if total > 0 else float("nan")
    mean_total = between + msw / k
    return {"items": items, "samples": k, "within": msw, "between": between, "sampling_share": share,
            "mean_noise_share": (msw / k) / mean_total if mean_total > 0 else float("nan")}
