"""Training page: eval-during-training curves (train_evals.jsonl) and loss curves per training run."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from alignsmith.dashboards.store import Problem, Run, RunReadError, read_json, read_jsonl
from alignsmith.dashboards.widgets import current_runs, show_problems

TRAIN_EVALS = "train_evals.jsonl"   # written by alignsmith.train's eval callback at every save
CURVE_METRICS = ("prompt_accuracy", "instruction_accuracy")


def is_training(run: Run) -> bool:
    """Training runs are `train` or `train-<method>` folders."""
    return run.kind == "train" or run.kind.startswith("train-")


def eval_curves(runs: list[Run]) -> tuple[pd.DataFrame, list[Problem]]:
    """Long rows (run, step, metric, value) from every training run's train_evals.jsonl."""
    rows, problems = [], []
    for run in runs:
        path = run.file(TRAIN_EVALS)
        if not path.exists():
            continue
        try:
            records = read_jsonl(path)
        except RunReadError as err:
            problems.append(Problem(run.label, str(err)))
            continue
        for rec in records:
            for m in CURVE_METRICS:
                if rec.get(m) is not None and rec.get("step") is not None:
                    rows.append({"run": run.label, "step": int(rec["step"]), "metric": m, "value": float(rec[m]),
                                 "n_prompts": rec.get("n_prompts"), "checkpoint": rec.get("checkpoint", "")})
    return pd.DataFrame(rows), problems


def loss_curves(runs: list[Run]) -> tuple[pd.DataFrame, list[Problem]]:
    """Training loss by step from the newest checkpoint's trainer_state.json of each run."""
    rows, problems = [], []
    for run in runs:
        states = sorted(run.path.glob("checkpoint-*/trainer_state.json"),
                        key=lambda p: int(p.parent.name.split("-")[-1]) if p.parent.name.split("-")[-1].isdigit()
                        else -1)
        if not states:
            continue
        try:
            state = read_json(states[-1])
        except RunReadError as err:
            problems.append(Problem(run.label, str(err)))
            continue
        for entry in state.get("log_history", []) if isinstance(state, dict) else []:
            if "loss" in entry and "step" in entry:
                rows.append({"run": run.label, "step": int(entry["step"]), "loss": float(entry["loss"])})
    return pd.DataFrame(rows), problems


def curve_chart(df: pd.DataFrame, y: str, title: str, facet: str | None = None) -> alt.Chart:
    """Lines by step per run (one panel per `facet` value when given)."""
    chart = alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("step:Q"), y=alt.Y(f"{y}:Q"), color="run:N", tooltip=list(df.columns)).properties(height=260)
    if facet:
        chart = chart.facet(column=alt.Column(f"{facet}:N", title=None))
    return chart.properties(title=title)


def render() -> None:
    st.title("Training")
    _, runs, problems = current_runs()
    live = st.checkbox("include unfinished runs (live curves of training in progress)", key="train-live")
    training = [r for r in runs if is_training(r) and (r.done or live)]
    evals, eval_problems = eval_curves(training)
    losses, loss_problems = loss_curves(training)
    show_problems(([p for p in problems if not live] if live else problems) + eval_problems + loss_problems)
    if evals.empty and losses.empty:
        st.info("No training run with eval-during-training results yet (`alignsmith train` writes "
                f"{TRAIN_EVALS} at every checkpoint save).")
        return
    if not evals.empty:
        st.altair_chart(curve_chart(evals, "value", "held-out constraint accuracy at each save", "metric"))
        last = evals.sort_values("step").groupby(["run", "metric"]).tail(1)
        st.dataframe(last.pivot(index="run", columns="metric", values="value").reset_index().round(3),
                     hide_index=True, key="train-last")
    if not losses.empty:
        st.altair_chart(curve_chart(losses, "loss", "training loss"), width="stretch")


if __name__ == "__main__":
    render()
