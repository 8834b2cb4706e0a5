"""Runs page: every run folder under the runs root, its status and headline metrics."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from alignsmith.dashboards.store import Problem, RunReadError, model_name, read_json, read_metrics
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
        rows.append({"kind": run.kind, "run": run.name, "status": status, "model": model_name(run, fallback=""),
                     "metrics": summary})
    return pd.DataFrame(rows), errors


def demo_tables(summary: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """From a demo summary.json: (stage → run folder, label → accuracy and win rate vs base with intervals)."""
    stages = [{"stage": k.removesuffix("_run"), "run folder": str(summary[k])}
              for k in ("generate_run", "curate_run", "pairs_run") if summary.get(k)]
    stages += [{"stage": "train", "run folder": str(p)} for p in summary.get("train_runs") or []]
    stages += [{"stage": f"eval: {k}", "run folder": str(p)} for k, p in (summary.get("eval_runs") or {}).items()]
    stages += [{"stage": f"eval (IFEval): {k}", "run folder": str(p)}
               for k, p in (summary.get("ifeval_eval_runs") or {}).items()]
    report = summary.get("report") or {}
    results = []
    for label, acc in (report.get("accuracy") or {}).items():
        win = (report.get("win_rate_vs_base") or {}).get(label) or {}
        results.append({"model": label,
                        "accuracy": interval_text(acc.get("value"), acc.get("ci_low"), acc.get("ci_high")),
                        "prompts": acc.get("prompts"),
                        "win rate vs base": interval_text(win.get("value"), win.get("ci_low"), win.get("ci_high"))
                        if win else ""})
    return pd.DataFrame(stages), pd.DataFrame(results)


def render_demo(run) -> None:
    """The newest finished demo: what each stage wrote and the headline result."""
    try:
        summary = read_json(run.file("summary.json"))
    except RunReadError as err:
        st.warning(f"demo {run.name}: summary.json could not be read")
        st.text(str(err))
        return
    if not isinstance(summary, dict):
        return
    stages, results = demo_tables(summary)
    st.subheader(f"Latest demo ({run.name})")
    if not results.empty:
        st.caption(f"metric: {(summary.get('report') or {}).get('metric', '')} (95% intervals)")
        st.dataframe(results, hide_index=True, key="demo-results")
    st.dataframe(stages, hide_index=True, key="demo-stages")


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
    items = list(counts.items())
    for start in range(0, len(items), 6):  # six counters per row
        for col, (kind, n) in zip(st.columns(6), items[start:start + 6]):
            col.metric(kind, int(n))
    demos = [r for r in runs if r.kind == "demo" and r.done and r.file("summary.json").exists()]
    if demos:
        render_demo(demos[0])
        st.subheader("All runs")
    text_table(table, key="runs")
    show_problems(problems + errors)


if __name__ == "__main__":
    render()
