"""Leaderboard over eval runs: head-to-head outcomes per shared item → Bradley-Terry + win-rate matrix.

Two runs meet on every item both answered in a task of the same version: the one with the better value
of the task's primary per-item metric wins the item, equal values tie. Win-rate runs also meet their
reference answers (as a player named `reference:<file>`), so models judged against the same reference
are tied together even without shared items among themselves.

Intervals resample items, not single outcomes: an item meets every pair of runs, so its outcomes are
correlated. Beside the plain ratings, style-controlled ratings (evaluate.style_control) hold answer length
and markdown fixed.
"""
from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Sequence

import numpy as np

from .bradley_terry import bradley_terry, win_rate_matrix
from .results import EvalRun


def _primary(run: EvalRun, task: str) -> tuple[str, bool] | None:
    info = (run.config.get("tasks") or {}).get(task) or {}
    name = info.get("primary")
    hib = {m["name"]: m["higher_is_better"] for m in info.get("metrics") or []}
    return (name, bool(hib.get(name, True))) if name else None


class Games(list):
    """Comparisons plus, per comparison, the item it came from (bootstrap cluster) and both answers' texts."""

    def __init__(self):
        super().__init__()
        self.clusters: list = []
        self.texts: list[tuple[str | None, str | None]] = []

    def add_many(self, comparisons: list, clusters: list, texts: list) -> None:
        """Append outcomes with their items and answer pairs (parallel lists, appended in bulk)."""
        self.extend(comparisons)
        self.clusters.extend(clusters)
        self.texts.extend(texts)

    def extend_games(self, other: "Games") -> None:
        """Append every outcome of another Games."""
        self.add_many(other, other.clusters, other.texts)


def _first_text(items, task: str) -> dict:
    """(item_id, prompt_id) → the first sampled answer (style features describe one answer per item)."""
    if "response" not in items:
        return {}
    rows = items[items["task"] == task].drop_duplicates(["item_id", "prompt_id"])
    return dict(zip(zip(rows["item_id"], rows["prompt_id"]), rows["response"]))


def _head_to_head(a: EvalRun, b: EvalRun) -> Games:
    games = Games()
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
        text_a, text_b = _first_text(a.items, task), _first_text(b.items, task)
        d = sign * (joined[f"{col}_a"].to_numpy(float) - joined[f"{col}_b"].to_numpy(float))
        outcomes = np.where(d > 0, 1.0, np.where(d < 0, 0.0, 0.5)).tolist()
        keys = list(zip(joined["item_id"], joined["prompt_id"]))
        games.add_many([(a.name, b.name, o) for o in outcomes], [(task, i, p) for i, p in keys],
                       [(text_a.get(k), text_b.get(k)) for k in keys])
    return games


def _reference_games(run: EvalRun) -> Games:
    games = Games()
    info = (run.config.get("tasks") or {}).get("winrate")
    if not info or run.items.empty or "win" not in run.items:
        return games
    ref = (info.get("options") or {}).get("reference") or "default"
    label = f"reference:{Path(str(ref)).name}"
    rows = run.items[(run.items["task"] == "winrate") & run.items["win"].notna()]
    refs = rows["reference_response"] if "reference_response" in rows else [None] * len(rows)
    answers = rows["response"] if "response" in rows else [None] * len(rows)
    games.add_many([(run.name, label, float(w)) for w in rows["win"].to_numpy(float)],
                   [("winrate", i, p) for i, p in zip(rows["item_id"], rows["prompt_id"])],
                   list(zip(answers, refs)))
    return games


def collect_comparisons(runs: Sequence[EvalRun]) -> Games:
    """Every pairwise outcome between the runs (and against win-rate references), with items and texts."""
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"the same run is given twice: {names}")
    games = Games()
    for a, b in combinations(runs, 2):
        games.extend_games(_head_to_head(a, b))
    for r in runs:
        games.extend_games(_reference_games(r))
    return games


def leaderboard(runs: Sequence[EvalRun], *, n_boot: int = 200, seed: int = 0, style_control: bool = True) -> dict:
    """BT ratings (log-odds, mean 0, 95% intervals from a bootstrap over items), the style-controlled
    ratings beside them, and the win-rate matrix, as a JSON-ready dict."""
    if len(runs) < 2 and not any(_reference_games(r) for r in runs):
        raise ValueError("a leaderboard needs at least two runs (or one with a win-rate reference)")
    games = collect_comparisons(runs)
    if not games:
        raise ValueError("the runs share no items in tasks of the same version: nothing to compare")
    ratings = bradley_terry(games, n_boot=n_boot, seed=seed, clusters=games.clusters)
    players, rate, count = win_rate_matrix(games)
    board = {"n_comparisons": len(games), "n_items": len(set(games.clusters)), "resampled": "items",
             "ratings": ratings.table(), "players": players,
             "win_rate": [[None if np.isnan(x) else float(x) for x in row] for row in rate],
             "games": count.astype(int).tolist(), "seed": seed, "n_boot": n_boot}
    if style_control:
        from .style_control import style_controlled_bt
        styled = style_controlled_bt(games, games.texts, clusters=games.clusters, n_boot=n_boot, seed=seed)
        board["style_controlled"] = styled.table()
        board["style_coefficients"] = styled.extra["style"]
    return board


def leaderboard_markdown(board: dict) -> str:
    """Ratings table then the win-rate matrix (row player's share of points against column player)."""
    styled = {r["player"]: r for r in board.get("style_controlled") or []}
    lines = ["# Leaderboard", "", f"{board['n_comparisons']} pairwise outcomes on {board.get('n_items', '?')} items; "
             "Bradley-Terry log-odds ratings (mean 0) with 95% intervals from a bootstrap over items; "
             "style-controlled: the same fit with length and markdown differences as covariates.", "",
             "| rank | player | rating | 95% CI | style-controlled | 95% CI |", "|---|---|---|---|---|---|"]
    for k, r in enumerate(board["ratings"], 1):
        s = styled.get(r["player"])
        sc = f"{s['rating']:+.3f} | [{s['ci_low']:+.3f}, {s['ci_high']:+.3f}]" if s else "– | –"
        lines.append(f"| {k} | {r['player']} | {r['rating']:+.3f} | [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}] | {sc} |")
    if board.get("style_coefficients"):
        lines += ["", "Style coefficients (log-odds per standard deviation of the normalised difference): " +
                  ", ".join(f"{name} {c['coef']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]"
                            for name, c in board["style_coefficients"].items())]
    players = board["players"]
    short = [f"P{i + 1}" for i in range(len(players))]
    lines += ["", "Win-rate matrix (row vs column; ties half):", "",
              "| | " + " | ".join(short) + " |", "|---" * (len(players) + 1) + "|"]
    for i, row in enumerate(board["win_rate"]):
        cells = ["–" if x is None else f"{x:.3f}" for x in row]
        lines.append(f"| {short[i]} {players[i]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
