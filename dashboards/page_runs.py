"""Runs page: every run folder under the runs root, its status and headline metrics."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from alignsmith.dashboards.store import Problem, RunReadError, model_name, read_metrics
from alignsmith.dashboards.widgets import current_runs, interval_text, show_problems, text_table


def run_rows(runs) -> tuple[pd.DataFrame, list[Problem]]:
    """One row per run (kind, run, status, model, metrics as text) and the read errors met."""
    rows, errors = [], []
    for run in runs:
        status, metrics = ("finished" if run.done else "unfinished (no DONE)"), {}
        if run.done:
            try:
                metrics = read_metrics(run)
            except RunReadError as err:
                status = "unreadable metrics.json"
                errors.append(Problem(run.label, str(err)))
        summary = "; ".join(f"{k} {interval_text(v.get('value'), v.get('ci_low'), v.get('ci_high'))}"
                            for k, v in list(metrics.items())[:6] if isinstance(v, dict))
        rows.append({"kind": run.kind, "run": run.name, "status": status, "model": model_name(run),
                     "metrics": summary})
    return pd.DataFrame(rows), errors


def render() -> None:
    st.title("Runs")
    root, runs, problems = current_runs()
    st.caption(f"runs folder: {root}")
    if not runs:
        st.info(f"No runs found in {root}. Run a stage (for example `alignsmith demo`) or point the "
                "sidebar's runs folder at a folder that has <kind>/<run>/ folders.")
        show_problems(problems)
        return
    table, errors = run_rows(runs)
    counts = table.groupby("kind").size()
    cols = st.columns(min(6, len(counts)))
    for col, (kind, n) in zip(cols, counts.items()):
        col.metric(kind, int(n))
    text_table(table, key="runs")
    show_problems(problems + errors)


if __name__ == "__main__":
    render()
