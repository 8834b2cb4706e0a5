"""Datasets page: the curation funnel, the pairs dataset card's charts and a searchable pair browser."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from alignsmith.dashboards.store import Run, RunReadError, finished, read_json, read_parquet
from alignsmith.dashboards.widgets import current_runs, plain_text, response_pair, show_problems, text_table

DATASET_KINDS = ("pairs", "curate", "generate")
PAIR_TEXT = ("prompt", "chosen", "rejected")


def funnel_table(rows_in: int, steps: list) -> pd.DataFrame:
    """Rows left after each step of a funnel, with the number that step dropped, and each step's seconds and
    rows/s when any step was timed. `steps` is the one funnel format every stage writes (curate's report.json
    `funnel`, the pairs card's `candidates_funnel` and `pairs_funnel`): a list of {step, dropped, rows_after,
    ...}; reports from before issue 18 have no `seconds`."""
    steps = [s for s in steps if isinstance(s, dict)]
    timed = any(s.get("seconds") is not None for s in steps)
    out = [{"step": "rows in", "rows_left": int(rows_in), "dropped": 0}]
    for s in steps:
        row = {"step": str(s.get("step")), "rows_left": int(s.get("rows_after", 0)), "dropped": int(s.get("dropped", 0))}
        if timed:
            row.update(seconds=s.get("seconds"), rows_per_s=s.get("rows_per_s"))
        out.append(row)
    return pd.DataFrame(out)


def funnel_from_report(report: dict) -> pd.DataFrame | None:
    """The funnel of a curate report.json (None when it has none)."""
    if isinstance(report.get("funnel"), list) and "rows_in" in report:
        return funnel_table(report["rows_in"], report["funnel"])
    return None


def steps_from_counts(rows_in: int, dropped: dict) -> list[dict]:
    """Only for pairs cards written before issue 15, still in users' run folders: their `candidates_dropped` /
    `pairs_dropped` (`{reason: n}`) as funnel steps. Nothing writes that shape now."""
    left, steps = int(rows_in), []
    for name, n in dropped.items():
        left -= int(n)
        steps.append({"step": str(name), "dropped": int(n), "rows_after": left})
    return steps


def card_funnel(card: dict, name: str, rows_in_key: str) -> pd.DataFrame | None:
    """The pairs card's `<name>_funnel` (candidates or pairs) as a table, None when the card has no such stage."""
    stages = card.get("stages") or {}
    if rows_in_key not in stages:
        return None
    steps = card.get(f"{name}_funnel")
    if not isinstance(steps, list):
        steps = steps_from_counts(stages[rows_in_key], stages.get(f"{name}_dropped") or {})
    return funnel_table(stages[rows_in_key], steps)


def funnel_chart(table: pd.DataFrame, title: str) -> alt.Chart:
    """Rows left after each step as bars, the step's own drop count in its label."""
    table = table.assign(label=[s if d == 0 else f"{s} (−{d})" for s, d in zip(table["step"], table["dropped"])])
    return alt.Chart(table).mark_bar().encode(
        x=alt.X("rows_left:Q", title="rows left"),
        y=alt.Y("label:N", sort=table["label"].tolist(), title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=[c for c in ("step", "rows_left", "dropped", "seconds", "rows_per_s") if c in table.columns]
    ).properties(title=title)


def search_rows(df: pd.DataFrame, query: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows whose text in any of `columns` contains `query` (case-insensitive, literal, not a regex)."""
    if not query:
        return df
    hit = pd.Series(False, index=df.index)
    for col in (c for c in columns if c in df.columns):
        hit |= df[col].map(plain_text).str.contains(query, case=False, regex=False, na=False)
    return df[hit]


def render_curate(run: Run) -> None:
    """A curate run: its funnel chart and table, kept rows and dropped rows with reasons."""
    report = run.file("report.json")
    if report.exists():
        loaded = read_json(report)
        table = funnel_from_report(loaded) if isinstance(loaded, dict) else None
        if table is not None:
            st.altair_chart(funnel_chart(table, "curation funnel (rows left after each step)"), width="stretch")
            st.dataframe(table, hide_index=True, key="curate-funnel")
            if "seconds" in table.columns and table["seconds"].notna().any():
                slowest = table.loc[table["seconds"].fillna(-1).idxmax()]
                st.caption(f"slowest step: {slowest['step']} ({slowest['seconds']:.2f} s of "
                           f"{loaded.get('seconds') or float('nan'):.2f} s in all); on Ray, a step's seconds are "
                           "summed over its workers")
    browse_file(run, "kept.parquet", "kept rows", ("prompt", "response"))
    browse_file(run, "dropped.parquet", "dropped rows (with reasons)", ("prompt", "response", "drop_reason"))


def render_card(card: dict) -> None:
    """The pairs dataset card's numbers as charts: stage funnels, margin histogram, length bias."""
    stages = card.get("stages") or {}
    cols = st.columns(4)
    for col, key in zip(cols, ("prompts_in", "candidates_in", "pairs_out", "sft_rows")):
        if key in stages:
            col.metric(key.replace("_", " "), stages[key])
    for name, rows_in_key in (("candidates", "candidates_in"), ("pairs", "pairs_proposed")):
        table = card_funnel(card, name, rows_in_key)
        if table is not None:
            st.altair_chart(funnel_chart(table, f"{name} funnel"), width="stretch")
    left, right = st.columns(2)
    hist = pd.DataFrame(card.get("margin_histogram") or [])
    if not hist.empty:
        left.altair_chart(alt.Chart(hist).mark_bar().encode(
            x=alt.X("low:Q", bin="binned", title="margin (chosen − rejected score)"), x2="high:Q",
            y=alt.Y("count:Q", title="pairs"), tooltip=["low", "high", "count"]).properties(
            title="margin histogram"), width="stretch")
    share, cap = card.get("chosen_longer_share"), card.get("chosen_longer_cap")
    if share is not None:
        right.metric("chosen longer share", f"{share:.3f}", help=f"cap {cap}" if cap is not None else None)
        bars = pd.DataFrame({"which": ["chosen longer", "chosen not longer"], "share": [share, 1 - share]})
        right.altair_chart(alt.Chart(bars).mark_bar().encode(x=alt.X("share:Q", scale=alt.Scale(domain=[0, 1])),
                                                             y=alt.Y("which:N", title=None)), width="stretch")
    if card.get("per_category"):
        st.caption("per category")
        st.dataframe(pd.DataFrame(card["per_category"]).T.reset_index(names="category"), hide_index=True,
                     key="card-categories")


def render_pairs(run: Run) -> None:
    """A pairs run: card charts, the searchable pair browser, one pair side by side, dropped pairs."""
    card_file = run.file("card.json")
    if card_file.exists():
        card = read_json(card_file)
        if isinstance(card, dict):
            render_card(card)
    if run.file("dpo.parquet").exists():
        st.subheader("Pair browser")
        pairs = read_parquet(run.file("dpo.parquet"))
        query = st.text_input("search prompt / chosen / rejected", key="pairs-search")
        hits = search_rows(pairs, query, PAIR_TEXT)
        st.caption(f"{len(hits)} of {len(pairs)} pairs")
        page = text_table(hits, key="pairs-table")
        if not page.empty:
            picks = [f"{i + 1}. {plain_text(r.get('prompt'))[:80]}" for i, r in enumerate(page.to_dict("records"))]
            pick = st.selectbox("show one pair", picks, key="pairs-pick")
            row = page.iloc[picks.index(pick)]
            st.code(plain_text(row.get("prompt")), language=None, wrap_lines=True)
            response_pair(f"chosen (score {row.get('chosen_score')})", plain_text(row.get("chosen")),
                          f"rejected (score {row.get('rejected_score')})", plain_text(row.get("rejected")))
    browse_file(run, "dropped_pairs.parquet", "dropped pairs (with reasons)", PAIR_TEXT + ("drop_reason",))


def browse_file(run: Run, name: str, title: str, search: tuple[str, ...]) -> None:
    """A run's Parquet file in an expander: searchable, paginated, text only."""
    if not run.file(name).exists():
        return
    with st.expander(title):
        df = read_parquet(run.file(name))
        query = st.text_input("search", key=f"search-{name}")
        text_table(search_rows(df, query, search), key=f"browse-{name}")


def render() -> None:
    st.title("Datasets")
    _, runs, problems = current_runs()
    show_problems(problems)
    candidates = [r for kind in DATASET_KINDS for r in finished(runs, kind)]
    if not candidates:
        st.info("No finished curate, pairs or generate runs yet (`alignsmith curate`, `alignsmith pairs`).")
        return
    labels = [r.label for r in candidates]
    run = candidates[labels.index(st.selectbox("dataset run", labels, key="ds-run"))]
    try:
        if run.kind == "pairs":
            render_pairs(run)
        elif run.kind == "curate":
            render_curate(run)
        else:
            for name in sorted(str(p.relative_to(run.path)) for p in run.path.rglob("*.parquet")):
                browse_file(run, name, name, ("prompt", "response"))
    except RunReadError as err:
        st.error(f"{run.label} could not be read")
        st.text(str(err))


if __name__ == "__main__":
    render()
