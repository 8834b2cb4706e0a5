"""Leaderboard over eval runs: head-to-head outcomes per shared item → Bradley-Terry + win-rate matrix.

Two runs meet on every item both answered in a task of the same version: the one with the better value
of the task's primary per-item metric wins the item, equal values tie. Win-rate runs also meet their
reference answers (as a player named `reference:<file>`), so models judged against the same reference
are tied together even without shared items among themselves.
"""
from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Sequence

import numpy as np

from .bradley_terry import Comparison, bradley_terry, win_rate_matrix
from .results import EvalRun


def _primary(run: EvalRun, task: str) -> tuple[str, bool] | None:
    info = (run.config.get("tasks") or {}).get(task) or {}
    name = info.get("primary")
    hib = {m["name"]: m["higher_is_better"] for m in info.get("metrics") or []}
    return (name, bool(hib.get(name, True))) if name else None


def _head_to_head(a: EvalRun, b: EvalRun) -> list[Comparison]:
    comps: list[Comparison] = []
    va, vb = a.task_versions, b.task_versions
    for task in [t for t in va if vb.get(t) == va[t]]:
        primary = _primary(a, task)
        if primary is None or a.items.empty or b.items.empty:
            continue
        col, higher_is_better = primary
        items_a, items_b = a.item_level(), b.item_level()
        if col not in items_a or col not in items_b:
            continue
        ia = items_a[items_a["task"] == task][["item_id", "prompt_id", col]]
        ib = items_b[items_b["task"] == task][["item_id", "prompt_id", col]]
        joined = ia.merge(ib, on=["item_id", "prompt_id"], suffixes=("_a", "_b")).dropna()
        sign = 1.0 if higher_is_better else -1.0
        for x, y in zip(joined[f"{col}_a"].to_numpy(float), joined[f"{col}_b"].to_numpy(float)):
            d = sign * (x - y)
            comps.append((a.name, b.name, 1.0 if d > 0 else 0.0 if d < 0 else 0.5))
    return comps


def _reference_games(run: EvalRun) -> list[Comparison]:
    info = (run.config.get("tasks") or {}).get("winrate")
    if not info or run.items.empty or "win" not in run.items:
        return []
    ref = (info.get("options") or {}).get("reference") or "default"
    label = f"reference:{Path(str(ref)).name}"
    wins = run.items[run.items["task"] == "winrate"]["win"].dropna().to_numpy(float)
    return [(run.name, label, float(w)) for w in wins]


def collect_comparisons(runs: Sequence[EvalRun]) -> list[Comparison]:
    """Every pairwise outcome between the runs (and against win-rate references)."""
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"the same run is given twice: {names}")
    comps: list[Comparison] = []
    for a, b in combinations(runs, 2):
        comps.extend(_head_to_head(a, b))
    for r in runs:
        comps.extend(_reference_games(r))
    return comps


def leaderboard(runs: Sequence[EvalRun], *, n_boot: int = 200, seed: int = 0) -> dict:
    """BT ratings (log-odds, mean 0, bootstrap 95% intervals) and the win-rate matrix, as a JSON-ready dict."""
    if len(runs) < 2 and not any(_reference_games(r) for r in runs):
        raise ValueError("a leaderboard needs at least two runs (or one with a win-rate reference)")
    comps = collect_comparisons(runs)
    if not comps:
        raise ValueError("the runs share no items in tasks of the same version: nothing to compare")
    ratings = bradley_terry(comps, n_boot=n_boot, seed=seed)
    players, rate, games = win_rate_matrix(comps)
    return {"n_comparisons": len(comps), "ratings": ratings.table(), "players": players,
            "win_rate": [[None if np.isnan(x) else float(x) for x in row] for row in rate],
            "games": games.astype(int).tolist(), "seed": seed, "n_boot": n_boot}


def leaderboard_markdown(board: dict) -> str:
    """Ratings table then the win-rate matrix (row player's share of points against column player)."""
    lines = ["# Leaderboard", "", f"{board['n_comparisons']} pairwise outcomes; Bradley-Terry log-odds "
             "ratings (mean 0) with bootstrap 95% intervals.", "",
             "| rank | player | rating | 95% CI |", "|---|---|---|---|"]
    for k, r in enumerate(board["ratings"], 1):
        lines.append(f"| {k} | {r['player']} | {r['rating']:+.3f} | [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] |")
    players = board["players"]
    short = [f"P{i + 1}" for i in range(len(players))]
    lines += ["", "Win-rate matrix (row vs column; ties half):", "",
              "| | " + " | ".join(short) + " |", "|---" * (len(players) + 1) + "|"]
    for i, row in enumerate(board["win_rate"]):
        cells = ["–" if x is None else f"{x:.3f}" for x in row]
        lines.append(f"| {short[i]} {players[i]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
