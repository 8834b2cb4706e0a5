"""One metric of a comparison: values on the shared items → test, interval, MDE, noise floor, notes.

Kept apart from compare.py (which joins runs, applies Holm and renders) so that the demo report and the
dashboard can test a single metric with exactly the same rules.
"""
from __future__ import annotations

import numpy as np

from .paired_tests import PairedInputError, clean_pairs, identical_reason, paired_test
from .power import (
    minimum_detectable_effect,
    noise_floor,
    per_sample_means,
    spread_of_differences,
    spread_of_discordance,
    variance_components,
)

NOT_TESTED = "not tested"


def _missing_note(b: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Rows with a value in both runs; a note counting the rows that have one in only one run."""
    both = ~np.isnan(b) & ~np.isnan(n)
    only_base, only_new = int((~np.isnan(b) & np.isnan(n)).sum()), int((np.isnan(b) & ~np.isnan(n)).sum())
    if only_base or only_new:
        return both, (f"{only_base + only_new} item(s) left out: value missing (NaN) in the new run on "
                      f"{only_base}, in the base run on {only_new}")
    return both, None


def _untested(full: str, spec: dict, n: int, reason: str) -> dict:
    return {"metric": full, "test": "–", "n": n, "base": None, "new": None, "diff": None, "ci_low": None,
            "ci_high": None, "p_value": None, "higher_is_better": bool(spec["higher_is_better"]),
            "discordant": None, "mde": None, "noise_floor": None, "verdict": NOT_TESTED,
            "note": f"not tested: {reason}"}


def _samples(items, rows, spec: dict):
    """The raw (per-sample) rows of this metric's task restricted to the compared items."""
    if items.empty or "sample" not in items:
        return items.iloc[0:0]
    keys = rows[["item_id", "prompt_id"]].drop_duplicates()
    task_rows = items[items["task"] == spec["task"]]
    return task_rows.merge(keys, on=["item_id", "prompt_id"])


def _components(raw, col: str, value: str):
    """variance_components of an items x samples table built from `value`, or None when too small."""
    table = raw.pivot_table(index=["item_id", "prompt_id"], columns="sample", values=value).dropna()
    if table.shape[0] >= 2 and table.shape[1] >= 2:
        return variance_components(table.to_numpy(float))
    return None


def _sampling_view(full_spec: dict, b_raw, n_raw) -> tuple[float | None, dict | None]:
    """Noise floor from the spread between sample indices, and the two-level variance view: of the paired
    differences when both runs drew the same k >= 2 samples per item, and of each run's own values."""
    col, weight = full_spec["name"], full_spec.get("weight")
    floor = noise_floor(per_sample_means(b_raw, col, weight), per_sample_means(n_raw, col, weight))
    variance: dict = {}
    for name, raw in (("base", b_raw), ("new", n_raw)):
        if len(raw) and raw["sample"].nunique() >= 2:
            part = _components(raw.dropna(subset=[col]), col, col)
            if part:
                variance[f"{name}_sampling_share"] = part["sampling_share"]
    if len(b_raw) and len(n_raw) and b_raw["sample"].nunique() >= 2 and n_raw["sample"].nunique() >= 2:
        keys = ["item_id", "prompt_id", "sample"]
        merged = b_raw[keys + [col]].merge(n_raw[keys + [col]], on=keys, suffixes=("_b", "_n")).dropna()
        merged["d"] = merged[f"{col}_n"] - merged[f"{col}_b"]
        paired = _components(merged, col, "d")
        if paired:
            variance.update(paired)
    return floor, (variance if "sampling_share" in variance else None)


def metric_row(full: str, spec: dict, rows, base_items, new_items, *, alpha: float = 0.05,
                seed: int = 0) -> dict | None:
    """The comparison row of one metric (before Holm), or None when neither run has the metric here."""
    col = spec["name"]
    b_all, n_all = rows[f"{col}__base"].to_numpy(float), rows[f"{col}__new"].to_numpy(float)
    if np.all(np.isnan(b_all)) and np.all(np.isnan(n_all)):
        return None
    both, note = _missing_note(b_all, n_all)
    weight = spec.get("weight")
    wb = rows[f"{weight}__base"].to_numpy(float)[both] if weight and f"{weight}__base" in rows else None
    wn = rows[f"{weight}__new"].to_numpy(float)[both] if weight and f"{weight}__new" in rows else None
    if weight and wb is None:
        return _untested(full, spec, int(both.sum()), f"weight column {weight!r} is missing in the base run")
    try:
        b, n, w = clean_pairs(b_all[both], n_all[both], wb, wn)
        r = paired_test(b, n, w, seed=seed)
    except PairedInputError as err:
        return _untested(full, spec, int(both.sum()), str(err) + (f"; {note}" if note else ""))
    d = n - b
    spread = (spread_of_discordance(*r.discordant, r.n) if r.discordant is not None
              else spread_of_differences(d, w))
    floor, variance = _sampling_view(spec, _samples(base_items, rows[both], spec),
                                     _samples(new_items, rows[both], spec))
    identical = identical_reason(b, n)
    notes = [x for x in (note, identical) if x]
    if floor is not None and abs(r.diff) <= floor:
        notes.append(f"difference {r.diff:+.4f} is inside the run-to-run noise floor ±{floor:.4f}")
    mde = minimum_detectable_effect(spread, alpha)
    return {"metric": full, "test": r.test, "n": r.n, "base": r.base_value, "new": r.new_value,
            "diff": r.diff, "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value,
            "higher_is_better": bool(spec["higher_is_better"]),
            "discordant": list(r.discordant) if r.discordant else None,
            "mde": mde if np.isfinite(mde) else None, "sd_diff": spread.sd, "noise_floor": floor,
            "variance": variance, "identical": bool(identical), "note": "; ".join(notes) or None}
