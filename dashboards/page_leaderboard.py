"""Leaderboard page: Bradley-Terry ratings with intervals and the win-rate matrix over eval runs.

Ratings come from alignsmith.evaluate.leaderboard (head-to-head on shared items by each task's primary
metric, plus win-rate references); this page filters the items and draws the result.
"""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from alignsmith.dashboards.evalruns import filtered, load_eval_runs, tasks_and_tags
from alignsmith.dashboards.widgets import current_runs, interval_bars, show_problems, text_table


@st.cache_data(show_spinner="fitting Bradley-Terry ratings…", max_entries=32)
def board_for(paths: tuple[str, ...], tasks: tuple[str, ...], tags: tuple[str, ...], n_boot: int,
              _evals: list) -> dict:
    """The leaderboard dict for these runs and filters (cached on run paths, filters and rounds)."""
    from alignsmith.evaluate.leaderboard import leaderboard
    runs = [filtered(e, list(tasks), list(tags)) for e in _evals]
    return leaderboard(runs, n_boot=n_boot, seed=0)


def with_style_control(board: dict) -> pd.DataFrame:
    """The ratings table with the style-controlled rating and interval of each player beside it."""
    table = pd.DataFrame(board["ratings"])
    styled = pd.DataFrame(board.get("style_controlled") or [])
    if styled.empty:
        return table
    styled = styled.rename(columns={"rating": "style_rating", "ci_low": "style_ci_low", "ci_high": "style_ci_high"})
    return table.merge(styled, on="player", how="left")


def win_rate_long(board: dict) -> pd.DataFrame:
    """The win-rate matrix (row player's share of points against the column player) as long rows."""
    players = board["players"]
    return pd.DataFrame([{"player": a, "opponent": b, "win_rate": board["win_rate"][i][j],
                          "games": board["games"][i][j]}
                         for i, a in enumerate(players) for j, b in enumerate(players)
                         if i != j and board["games"][i][j]])


def heatmap(long: pd.DataFrame) -> alt.Chart:
    """Win-rate matrix as coloured cells with the rate printed in each."""
    base = alt.Chart(long).encode(x=alt.X("opponent:N", title="against", axis=alt.Axis(labelLimit=260)),
                                  y=alt.Y("player:N", title=None, axis=alt.Axis(labelLimit=420)))
    cells = base.mark_rect().encode(
        color=alt.Color("win_rate:Q", scale=alt.Scale(domain=[0, 1], scheme="redblue")),
        tooltip=["player", "opponent", alt.Tooltip("win_rate", format=".3f"), "games"])
    labels = base.mark_text(baseline="middle").encode(text=alt.Text("win_rate:Q", format=".2f"))
    return (cells + labels).properties(title="win rate of row player against column player",
                                       height={"step": 36})


def win_rates(evals: list) -> pd.DataFrame:
    """Raw and length-controlled win rates (percent, 95% intervals) of every eval run that has them."""
    from alignsmith.dashboards.widgets import interval_text
    rows = []
    for e in evals:
        raw, lc = e.metrics.get("winrate/win"), e.metrics.get("winrate/lc_win_rate")
        if not isinstance(raw, dict) or raw.get("value") is None:
            continue
        lc = lc if isinstance(lc, dict) else {}

        def pct(m, key):
            return None if m.get(key) is None else 100 * m[key]
        rows.append({"run": e.name, "n": raw.get("n"),
                     "win rate % [95% CI]": interval_text(pct(raw, "value"), pct(raw, "ci_low"), pct(raw, "ci_high"), 1),
                     "LC win rate % [95% CI]": interval_text(pct(lc, "value"), pct(lc, "ci_low"), pct(lc, "ci_high"), 1),
                     "lc": pct(lc, "value") if lc else None,
                     "judge agreement": raw.get("judge_agreement"),
                     "judge warnings": "; ".join(raw.get("judge_warnings") or [])})
    table = pd.DataFrame(rows)
    return table.sort_values("lc", ascending=False, na_position="last").drop(columns="lc") if rows else table


def render_win_rates(evals: list) -> None:
    """The raw / length-controlled win-rate table, with the judges' warnings shown loudly."""
    table = win_rates(evals)
    if table.empty:
        return
    st.subheader("Win rates against the reference: raw and length-controlled")
    st.caption("LC: AlpacaEval's length-controlled GLM (predicted win rate at equal length); "
               "`alignsmith winrates` fits it over many models at once.")
    text_table(table, key="lb-winrates")
    for run, warnings in zip(table["run"], table["judge warnings"]):
        if warnings:
            st.error(f"{run}: {warnings}")


def render() -> None:
    st.title("Leaderboard")
    _, runs, problems = current_runs()
    evals, load_problems = load_eval_runs(runs)
    show_problems(problems + load_problems)
    render_win_rates(evals)
    if len(evals) < 2:
        st.info(f"The leaderboard needs at least two finished eval runs on shared items (found {len(evals)}). "
                "Run `alignsmith eval` for each model or checkpoint.")
        return
    tasks, tags = tasks_and_tags(evals)
    left, mid, right = st.columns([2, 2, 1])
    picked_tasks = left.multiselect("tasks", tasks, default=tasks, key="lb-tasks")
    picked_tags = mid.multiselect("subsets / tags (all when empty)", tags, key="lb-tags")
    n_boot = int(right.number_input("bootstrap rounds", 20, 1000, 100, step=20, key="lb-boot"))
    try:
        keys = tuple(f"{e.path}:{len(e.items)}" for e in evals)
        board = board_for(keys, tuple(picked_tasks), tuple(picked_tags), n_boot, evals)
    except ValueError as err:  # no shared items, a single run, ...: the library says why
        st.info(f"No leaderboard for this selection: {err}")
        return
    table = with_style_control(board)
    st.caption(f"{board['n_comparisons']} head-to-head outcomes on {board.get('n_items', 'the')} shared items "
               f"(better primary metric wins, equal ties). Bradley-Terry log-odds ratings, mean 0, 95% intervals "
               f"from a bootstrap over items ({n_boot} rounds); style-controlled: the same fit with length and "
               "markdown differences as covariates.")
    st.altair_chart(interval_bars(table, "player", "rating", "ci_low", "ci_high", "Bradley-Terry rating"),
                    width="stretch")
    text_table(table.round(3), key="lb-ratings")
    if board.get("style_coefficients"):
        st.caption("Style coefficients (log-odds per unit of scaled difference): " + ", ".join(
            f"{name} {c['coef']:+.2f} [{c['ci_low']:+.2f}, {c['ci_high']:+.2f}]"
            for name, c in board["style_coefficients"].items()))
    st.subheader("Win-rate matrix")
    long = win_rate_long(board)
    if not long.empty:
        st.altair_chart(heatmap(long), width="stretch")


if __name__ == "__main__":
    render()
