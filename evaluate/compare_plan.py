"""Sample-size planning from a pilot (`alignsmith power`): how many items to detect a given change?

With two pilot runs on the same items (e.g. the current checkpoint and a candidate, or two seeds of one),
the spread of their per-item differences is measured directly. With one pilot run, the per-item spread of
the metric is doubled in variance (the two runs' answers to an item treated as independent), which is
the cautious choice: real checkpoints agree on many items and need fewer.
"""
from __future__ import annotations

import numpy as np

from .power import (
    DEFAULT_POWER,
    Spread,
    items_needed,
    minimum_detectable_effect,
    power_at,
    spread_of_differences,
    spread_of_discordance,
)
from .results import EvalRun
from .stats import is_binary


def _spec(run: EvalRun, metric: str) -> tuple[str, dict]:
    specs = run.metric_specs()
    matches = [k for k in specs if k == metric or k.split("/", 1)[1] == metric]
    if len(matches) != 1:
        raise ValueError(f"metric {metric!r} {'is ambiguous' if matches else 'is not in'} {run.path} "
                         f"(known: {', '.join(sorted(specs))})")
    return matches[0], specs[matches[0]]


def _values(run: EvalRun, spec: dict):
    items = run.item_level()
    rows = items[items["task"] == spec["task"]]
    weight = spec.get("weight")
    cols = ["item_id", "prompt_id", spec["name"]] + ([weight] if weight and weight in rows else [])
    return rows[cols].dropna(subset=[spec["name"]])


def pilot_spread(base: EvalRun, new: EvalRun | None, metric: str) -> tuple[str, Spread, int, str]:
    """(metric, spread of paired differences, pilot items, how it was measured) from one or two runs."""
    full, spec = _spec(base, metric)
    col, weight = spec["name"], spec.get("weight")
    b = _values(base, spec)
    if new is None:
        if len(b) < 2:
            raise ValueError(f"{full}: the pilot has {len(b)} item(s) with a value; need at least 2")
        w = b[weight].to_numpy(float) if weight and weight in b else None
        s = spread_of_differences(b[col].to_numpy(float), w)
        sd = s.sd * np.sqrt(2.0)
        return full, Spread(sd / np.sqrt(s.n_eff), s.n_eff, sd), len(b), \
            "one pilot run: per-item spread x sqrt(2) (answers of the two runs treated as independent)"
    joined = b.merge(_values(new, spec), on=["item_id", "prompt_id"], suffixes=("__b", "__n"))
    if len(joined) < 2:
        raise ValueError(f"{full}: the pilot runs share {len(joined)} item(s) with a value; need at least 2")
    vb, vn = joined[f"{col}__b"].to_numpy(float), joined[f"{col}__n"].to_numpy(float)
    w = joined[f"{weight}__b"].to_numpy(float) if weight and f"{weight}__b" in joined else None
    if w is None and is_binary(vb) and is_binary(vn):
        lost, gained = int(np.sum((vb == 1) & (vn == 0))), int(np.sum((vb == 0) & (vn == 1)))
        return full, spread_of_discordance(lost, gained, len(joined)), len(joined), \
            f"two pilot runs: {lost + gained} discordant of {len(joined)} items"
    return full, spread_of_differences(vn - vb, w), len(joined), "two pilot runs: spread of paired differences"


def plan(base: EvalRun, new: EvalRun | None, metric: str, effect: float, *, alpha: float = 0.05,
         power: float = DEFAULT_POWER) -> dict:
    """Items needed to detect `effect` in `metric` with `power` at `alpha`, and what the pilot itself detects."""
    if not effect:
        raise ValueError("--effect must be non-zero (e.g. 0.02 for a 2-point change in a 0-1 metric)")
    full, spread, n, how = pilot_spread(base, new, metric)
    if not spread.sd > 0:
        raise ValueError(f"{full}: the pilot shows no variation in the differences ({how}); "
                         "a sample size cannot be estimated from it")
    needed = items_needed(abs(effect), spread.sd, alpha, power)
    return {"metric": full, "effect": abs(effect), "alpha": alpha, "power": power, "pilot_items": n,
            "sd_diff": spread.sd, "how": how, "items_needed": needed,
            "pilot_mde": minimum_detectable_effect(spread, alpha, power),
            "pilot_power": power_at(abs(effect), spread, alpha)}


def plan_text(p: dict) -> str:
    """The plan in three lines."""
    return (f"{p['metric']}: to detect a change of {p['effect']:g} with {p['power']:.0%} power at alpha "
            f"{p['alpha']:g}, compare on {p['items_needed']} items.\n"
            f"  pilot: {p['pilot_items']} items, per-item SD of differences {p['sd_diff']:.4f} ({p['how']})\n"
            f"  the pilot's own size detects ±{p['pilot_mde']:.4f} (power for {p['effect']:g}: "
            f"{p['pilot_power']:.0%})\n")
