"""Eval runs for the pages: finished runs read with alignsmith.evaluate.results, cached and fault-tolerant.

A run that cannot be read becomes a `Problem` (one line on the page) and the other runs still load.
Reads are cached on the run's files' (mtime, size), so a 100k-item run is parsed once.
"""
from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from alignsmith.evaluate.results import DONE_FILE, EvalRun, load_eval_run

from .store import Problem, Run, finished

PROMPT_COLUMN, RESPONSE_COLUMN, TAG_COLUMN = "prompt", "response", "subset"


def _files_stamp(run: Run) -> tuple:
    # Every file the loader reads: a rewrite of any of them invalidates the cached copy.
    out = []
    for name in ("config.yaml", "metrics.json", "items.parquet", DONE_FILE):
        path = run.file(name)
        if path.exists():
            stat = path.stat()
            out.append((name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


# cache_resource, not cache_data: cache_data would unpickle a fresh copy of every run's items (nested chat
# messages) on each rerun, which dominates page time for 100k-item runs. Pages never modify these objects.
@st.cache_resource(show_spinner="reading eval runs…", max_entries=128)
def _load_cached(path: str, stamp: tuple) -> EvalRun:
    return load_eval_run(path)


def load_eval_runs(runs: list[Run], kind: str = "eval") -> tuple[list[EvalRun], list[Problem]]:
    """Every finished eval run, newest first; unreadable ones become problems, the rest still load."""
    loaded, problems = [], []
    for run in finished(runs, kind):
        try:
            loaded.append(_load_cached(str(run.path), _files_stamp(run)))
        except Exception as err:  # corrupt Parquet, bad JSON/YAML, wrong kind: reported, never raised
            problems.append(Problem(run.label, f"cannot be read ({type(err).__name__}: {err}); delete the "
                                               "folder and rerun `alignsmith eval` to rebuild it"))
    return loaded, problems


def tasks_and_tags(evals: list[EvalRun]) -> tuple[list[str], list[str]]:
    """All task names and item subsets (tags) present in the runs, sorted."""
    tasks, tags = set(), set()
    for e in evals:
        if "task" in e.items:
            tasks.update(e.items["task"].dropna().astype(str))
        if TAG_COLUMN in e.items:
            tags.update(t for t in e.items[TAG_COLUMN].dropna().astype(str) if t)
    return sorted(tasks), sorted(tags)


def filtered(e: EvalRun, tasks: list[str] | None, tags: list[str] | None) -> EvalRun:
    """The run restricted to items of `tasks` and `tags` (None or empty: no restriction)."""
    items = e.items
    if items.empty:
        return e
    keep = pd.Series(True, index=items.index)
    if tasks and "task" in items:
        keep &= items["task"].astype(str).isin(tasks)
    if tags and TAG_COLUMN in items:
        keep &= items[TAG_COLUMN].astype(str).isin(tags)
    return dataclasses.replace(e, items=items[keep])


def primary_metric(e: EvalRun, task: str) -> tuple[str | None, bool]:
    """The task's head-to-head per-item metric and whether higher is better, from the run's config."""
    info = (e.config.get("tasks") or {}).get(task) or {}
    name = info.get("primary")
    better = {m["name"]: m.get("higher_is_better", True) for m in info.get("metrics") or []}
    return name, bool(better.get(name, True))
