"""Compare page: base vs new eval run — metric deltas with intervals and significance, per-item diffs."""
from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from alignsmith.dashboards.compare_view import item_diffs, metric_table
from alignsmith.dashboards.evalruns import load_eval_runs
from alignsmith.dashboards.store import RunReadError, finished, read_json
from alignsmith.dashboards.widgets import current_runs, plain_text, response_pair, show_problems, text_table

COLOURS = alt.Scale(domain=["improved", "regressed", "no significant change", "within noise floor",
                            "no change on any item", "changed"],
                    range=["#2b8a3e", "#c92a2a", "#868e96", "#adb5bd", "#ced4da", "#e67700"])


def delta_chart(table: pd.DataFrame) -> alt.Chart:
    """Differences (new - base) with their 95% intervals, coloured by verdict."""
    base = alt.Chart(table).encode(y=alt.Y("metric:N", title=None, axis=alt.Axis(labelLimit=320)))
    rule = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q", title="new − base"), x2="ci_high:Q",
                                                color=alt.Color("verdict:N", scale=COLOURS))
    point = base.mark_point(filled=True, size=70).encode(
        x="diff:Q", color=alt.Color("verdict:N", scale=COLOURS),
        tooltip=["metric", alt.Tooltip("diff", format=".3f"), alt.Tooltip("p_value", format=".3g"),
                 alt.Tooltip("p_holm", format=".3g"), alt.Tooltip("mde", format=".3f"), "test", "n"])
    zero = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return (rule + point + zero).properties(height={"step": 30})


@st.cache_data(show_spinner="comparing…", max_entries=32)
def comparison(key: tuple[str, str], _base, _new) -> dict:
    """compare_runs(base, new) from alignsmith.evaluate, cached per pair of runs."""
    from alignsmith.evaluate.compare import compare_runs
    return compare_runs(_base, _new)


@st.cache_resource(show_spinner="lining up items…", max_entries=16)
def cached_item_diffs(key: tuple[str, str], _base, _new) -> pd.DataFrame:
    """item_diffs for a pair of runs, computed once per pair (read-only afterwards)."""
    return item_diffs(_base, _new)


def render() -> None:
    st.title("Compare")
    _, runs, problems = current_runs()
    evals, load_problems = load_eval_runs(runs)
    saved = finished(runs, "compare")
    show_problems(problems + load_problems)
    sources = ["two eval runs"] + (["a saved `alignsmith compare` result"] if saved else [])
    source = st.radio("compare", sources, horizontal=True, key="cmp-source") if saved else sources[0]
    if source == sources[0]:
        pick_and_compare(evals)
    else:
        show_saved(saved, evals)


def pick_and_compare(evals: list) -> None:
    """Compare two eval runs picked here (compare_runs computed on the fly)."""
    if len(evals) < 2:
        st.info(f"Comparing needs two finished eval runs (found {len(evals)}).")
        return
    labels = [e.name for e in evals]
    left, right = st.columns(2)
    new_label = right.selectbox("new run", labels, index=0, key="cmp-new")
    new_run = evals[labels.index(new_label)]
    # Default base: the next run that shares a task with the new one (runs are listed newest first).
    shared = [i for i, e in enumerate(evals) if e is not new_run and set(e.task_versions) & set(new_run.task_versions)]
    base_label = left.selectbox("base run", labels, index=shared[0] if shared else 0, key="cmp-base")
    base, new = evals[labels.index(base_label)], new_run
    if base is new:
        st.info("Pick two different runs.")
        return
    key = (f"{base.path}:{len(base.items)}", f"{new.path}:{len(new.items)}")
    try:
        result = comparison(key, base, new)
    except ValueError as err:  # different task versions, no shared items: the library says which
        st.info(f"These runs cannot be compared: {err}")
        return
    render_result(result)
    render_items(cached_item_diffs(key, base, new))


def show_saved(saved: list, evals: list) -> None:
    """A compare.json written by `alignsmith compare`, plus its per-item diff when both runs are here."""
    labels = [r.label for r in saved]
    run = saved[labels.index(st.selectbox("saved comparison", labels, key="cmp-saved"))]
    try:
        result = read_json(run.file("compare.json"))
        render_result(result)
    except (RunReadError, KeyError, TypeError) as err:
        st.error(f"{run.label}: compare.json could not be read")
        st.text(str(err))
        return
    by_path = {e.path.resolve(): e for e in evals}
    base, new = by_path.get(Path(result["base"]).resolve()), by_path.get(Path(result["new"]).resolve())
    if base is None or new is None:
        st.info("The two eval runs of this comparison are not under this runs folder; per-item differences "
                "need both.")
        return
    render_items(cached_item_diffs((f"{base.path}:{len(base.items)}", f"{new.path}:{len(new.items)}"), base, new))


def render_result(result: dict) -> None:
    """The verdict, the delta chart and the per-metric table of one comparison."""
    table = metric_table(result)
    verdict = "REGRESSION: at least one metric got worse" if result["regressed"] else "no significant regression"
    st.subheader(f"Metric deltas (new − base): {verdict}")
    st.caption(f"{result['shared_items']} shared items. 95% intervals; McNemar's exact test for pass/fail "
               "metrics, a sign-flip permutation test otherwise; p-values Holm-adjusted across the metrics. "
               "MDE: the smallest difference detectable with 80% power; noise floor: run-to-run spread between "
               "sample indices (eval runs with --samples k >= 2).")
    for metric in result.get("not_tested") or []:
        note = next((r.get("note") for r in result["metrics"] if r["metric"] == metric), "")
        st.warning(f"{metric}: {note}")
    st.altair_chart(delta_chart(table.dropna(subset=["diff"])), width="stretch")
    st.dataframe(table.round(4), hide_index=True, key="cmp-deltas")


def render_items(diffs: pd.DataFrame) -> None:
    """The per-item diff table (ordered, optionally only changed items) and one item side by side."""
    st.subheader("Per-item differences")
    if diffs.empty:
        return
    order = st.radio("order", ["worst regressions first", "biggest gains first"], horizontal=True,
                     key="cmp-order")
    only_changed = st.checkbox("only items whose score changed", value=True, key="cmp-changed")
    if order == "biggest gains first":
        diffs = diffs.sort_values("delta", ascending=False, kind="stable", na_position="last")
    if only_changed:
        diffs = diffs[diffs["delta"].fillna(0) != 0]
    st.caption(f"{len(diffs)} items")
    page = text_table(diffs, key="cmp-items")
    if page.empty:
        return
    picks = [f"{r.task} / {r.item_id} (Δ {r.delta:+.3f})" for r in page.itertuples()]
    pick = st.selectbox("show one item side by side", picks, key="cmp-item")
    row = page.iloc[picks.index(pick)]
    st.caption("prompt")
    st.code(plain_text(row["prompt"]), language=None, wrap_lines=True)
    response_pair(f"base ({row['metric']} {row['base_value']})", plain_text(row["base_response"]),
                  f"new ({row['metric']} {row['new_value']})", plain_text(row["new_response"]))
    if row["flipped"]:
        st.text(f"checks flipped: {row['flipped']}")


if __name__ == "__main__":
    render()
