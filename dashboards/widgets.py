"""Building blocks shared by the pages: problem banners, paginated tables, inert model text, charts.

Model text is untrusted. It is only ever shown through `st.dataframe` (cells drawn as plain text on a
canvas), `st.code` / `st.text` (escaped preformatted text) or Altair data values, never through
`st.markdown`/`st.html`, so HTML, Markdown images and scripts in a response stay inert.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable

import altair as alt
import pandas as pd
import streamlit as st

from .store import Problem, Run, discover_runs, runs_root_from_argv

PAGE_SIZES = (25, 100, 500)


def show_problems(problems: Iterable[Problem], title: str = "Some runs could not be shown") -> None:
    """One warning listing each problem on its own line (as plain text, so paths cannot inject markup)."""
    problems = list(problems)
    if not problems:
        return
    # The title is ours (Markdown is fine); the details come from the filesystem, so they go out as text.
    st.warning(f"{title} ({len(problems)})", icon="⚠️")
    st.text("\n".join(f"{p.where}: {p.message}" for p in problems))


def paginate(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """The slice of `df` for the page picked with a page-size and page-number control."""
    if len(df) <= PAGE_SIZES[0]:
        return df
    left, right = st.columns(2)
    size = left.selectbox("rows per page", PAGE_SIZES, key=f"{key}-size")
    pages = max(1, math.ceil(len(df) / size))
    page = right.number_input(f"page (of {pages})", min_value=1, max_value=pages, value=1, step=1,
                              key=f"{key}-page")
    start = (int(page) - 1) * size
    st.caption(f"rows {start + 1}–{min(start + size, len(df))} of {len(df)}")
    return df.iloc[start:start + size]


def as_text_column(values: pd.Series) -> pd.Series:
    """Any column (chat messages, dicts, lists) flattened to plain strings for display."""
    return values.map(plain_text)


def plain_text(value) -> str:
    """Readable text for a cell: chat messages joined by role, lists and dicts as `k=v`, None as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, str):
        return value
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, dict):
        if "content" in value and "role" in value:
            return str(value["content"])
        return ", ".join(f"{k}={plain_text(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(m, dict) and "content" in m for m in value):
            if len(value) == 1:
                return str(value[0]["content"])
            return "\n".join(f"[{m.get('role', '?')}] {m['content']}" for m in value)
        return ", ".join(plain_text(v) for v in value)
    return str(value)


def text_table(df: pd.DataFrame, key: str, height: int | None = None) -> pd.DataFrame:
    """A paginated dataframe whose object columns are flattened to plain text; returns the shown slice."""
    shown = paginate(df, key)
    display = shown.copy()
    for col in display.columns:
        if display[col].dtype == object:
            display[col] = as_text_column(display[col])
    st.dataframe(display, hide_index=True, height=height or "auto", key=f"{key}-table")
    return shown


def response_pair(left_title: str, left: str, right_title: str, right: str) -> None:
    """Two texts side by side, escaped (st.code renders its body as literal text)."""
    a, b = st.columns(2)
    with a:
        st.caption(left_title)
        st.code(left, language=None, wrap_lines=True)
    with b:
        st.caption(right_title)
        st.code(right, language=None, wrap_lines=True)


def interval_bars(df: pd.DataFrame, label: str, value: str, low: str, high: str, title: str) -> alt.Chart:
    """Horizontal points with interval bars, one row per `label`, ordered by `value`."""
    order = df.sort_values(value, ascending=False)[label].tolist()
    base = alt.Chart(df).encode(y=alt.Y(f"{label}:N", sort=order, title=None, axis=alt.Axis(labelLimit=420)))
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X(f"{low}:Q", title=value), x2=f"{high}:Q")
    points = base.mark_point(filled=True, size=70).encode(
        x=f"{value}:Q", tooltip=[label, alt.Tooltip(value, format=".3f"), alt.Tooltip(low, format=".3f"),
                                 alt.Tooltip(high, format=".3f")])
    # A per-row step (not a fixed height) keeps one readable band per row however many rows there are.
    return (bars + points).properties(title=title, height={"step": 28})


def fmt(value, digits: int = 3) -> str:
    """A number for a table cell: fixed digits, '–' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    return f"{float(value):.{digits}f}"


def interval_text(value, low, high, digits: int = 3) -> str:
    """`0.512 [0.480, 0.545]`, or the value alone when there is no interval."""
    if low is None or high is None or any(isinstance(x, float) and math.isnan(x) for x in (low, high)):
        return fmt(value, digits)
    return f"{fmt(value, digits)} [{fmt(low, digits)}, {fmt(high, digits)}]"


def current_runs() -> tuple[Path, list[Run], list[Problem]]:
    """The runs folder chosen in the sidebar and every run under it (with problems found on the way)."""
    root = Path(st.session_state.get("runs_root") or runs_root_from_argv()).expanduser()
    runs, problems = discover_runs(root)
    return root, runs, problems
