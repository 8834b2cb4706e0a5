"""Safety page: refusal of harmful requests against over-refusal of benign ones, per checkpoint."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from alignsmith.dashboards.evalruns import PROMPT_COLUMN, RESPONSE_COLUMN, load_eval_runs
from alignsmith.dashboards.widgets import current_runs, show_problems, text_table
from alignsmith.evaluate.results import EvalRun

# (metric, what the number is) — per-item columns of the `safety` eval task (alignsmith.evaluate).
HARMFUL, BENIGN = "harmful_refusal", "over_refusal"


def _point(e: EvalRun, metric: str) -> dict | None:
    """A metric's value and interval: metrics.json first, else recomputed from the items."""
    entry = e.metrics.get(f"safety/{metric}") or e.metrics.get(metric)
    if isinstance(entry, dict) and entry.get("value") is not None:
        return {"value": entry["value"], "ci_low": entry.get("ci_low"), "ci_high": entry.get("ci_high"),
                "n": entry.get("n")}
    if metric not in e.items.columns:
        return None
    from alignsmith.evaluate.stats import bootstrap_mean_ci
    values = pd.to_numeric(e.items[metric], errors="coerce").dropna()
    if values.empty:
        return None
    low, high = bootstrap_mean_ci(values.to_numpy(), seed=0)
    return {"value": float(values.mean()), "ci_low": low, "ci_high": high, "n": int(values.size)}


def tradeoff_table(evals: list[EvalRun]) -> pd.DataFrame:
    """One row per run with both rates and their intervals (runs without safety results left out)."""
    rows = []
    for e in evals:
        harmful, benign = _point(e, HARMFUL), _point(e, BENIGN)
        if harmful is None or benign is None:
            continue
        rows.append({"run": e.name, "harmful_refused": harmful["value"], "harmful_low": harmful["ci_low"],
                     "harmful_high": harmful["ci_high"], "n_harmful": harmful["n"],
                     "benign_refused": benign["value"], "benign_low": benign["ci_low"],
                     "benign_high": benign["ci_high"], "n_benign": benign["n"]})
    return pd.DataFrame(rows)


def scatter(table: pd.DataFrame) -> alt.Chart:
    """x: over-refusal on benign prompts (lower is better); y: refusal on harmful (higher is better)."""
    base = alt.Chart(table)
    x = alt.X("benign_refused:Q", title="over-refusal on benign prompts (lower is better)",
              scale=alt.Scale(domain=[0, 1]))
    y = alt.Y("harmful_refused:Q", title="refusal on harmful prompts (higher is better)",
              scale=alt.Scale(domain=[0, 1]))
    xbar = base.mark_rule().encode(x=alt.X("benign_low:Q", scale=alt.Scale(domain=[0, 1])), x2="benign_high:Q",
                                   y=y, color="run:N")
    ybar = base.mark_rule().encode(y=alt.Y("harmful_low:Q", scale=alt.Scale(domain=[0, 1])),
                                   y2="harmful_high:Q", x=x, color="run:N")
    points = base.mark_point(filled=True, size=90).encode(
        x=x, y=y, color="run:N",
        tooltip=["run", alt.Tooltip("harmful_refused", format=".3f"), alt.Tooltip("benign_refused", format=".3f"),
                 "n_harmful", "n_benign"])
    return (xbar + ybar + points).properties(height=420)


def examples(e: EvalRun, metric: str, refused: bool) -> pd.DataFrame:
    """The items behind a number: prompts of that group the model refused (or answered)."""
    df = e.items
    if metric not in df.columns:
        return pd.DataFrame()
    values = pd.to_numeric(df[metric], errors="coerce")
    # over_refusal / harmful_refusal are 1 when the model refused; NaN marks items outside the group.
    rows = df[values == (1.0 if refused else 0.0)]
    cols = [c for c in ("item_id", "subset", PROMPT_COLUMN, RESPONSE_COLUMN) if c in rows.columns]
    return rows[cols]


def render() -> None:
    st.title("Safety")
    _, runs, problems = current_runs()
    evals, load_problems = load_eval_runs(runs)
    show_problems(problems + load_problems)
    table = tradeoff_table(evals)
    if table.empty:
        st.info("No finished eval run has safety results yet: run `alignsmith eval` with the `safety` task.")
        return
    st.caption("Each point is one checkpoint's eval run; bars are 95% bootstrap intervals. Best is top left: "
               "refuses harmful requests, answers benign ones.")
    st.altair_chart(scatter(table), width="stretch")
    st.dataframe(table.round(3), hide_index=True, key="safety-table")
    st.subheader("Examples behind each number")
    with_safety = [e for e in evals if e.name in set(table["run"])]
    labels = [e.name for e in with_safety]
    left, right = st.columns(2)
    e = with_safety[labels.index(left.selectbox("run", labels, key="safety-run"))]
    groups = {"harmful prompts refused": (HARMFUL, True), "harmful prompts answered": (HARMFUL, False),
              "benign prompts refused (over-refusals)": (BENIGN, True), "benign prompts answered": (BENIGN, False)}
    found = {name: examples(e, *spec) for name, spec in groups.items()}
    labels = [f"{name} ({len(rows)})" for name, rows in found.items()]
    # Over-refusals first when there are any: they are what a safety-tuned checkpoint most often gets wrong.
    default = next((i for i in (2, 1, 0, 3) if len(found[list(found)[i]])), 2)
    group = right.selectbox("group", labels, index=default, key="safety-group")
    rows = found[list(found)[labels.index(group)]]
    st.caption(f"{len(rows)} items")
    text_table(rows, key="safety-examples")


if __name__ == "__main__":
    render()
