"""Reading run folders for the dashboard: discovery, cached file loads and readable load errors.

Nothing here raises on bad input: a missing, half-written or corrupt run becomes a `Problem` that the
page shows as one line, and every other run still loads. File reads are cached on (path, mtime, size),
so a large Parquet file is parsed once and re-read only when it changes on disk.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
import yaml

from alignsmith.evaluate.results import is_done


class RunReadError(Exception):
    """A run file that exists but cannot be read; the message names the file and what to do."""


@dataclass(frozen=True)
class Run:
    """One run folder: `<root>/<kind>/<name>/`."""

    kind: str
    name: str
    path: Path
    done: bool

    @property
    def label(self) -> str:
        """`kind/name`, how a run is named on every page."""
        return f"{self.kind}/{self.name}"

    def file(self, name: str) -> Path:
        """A file inside the run folder."""
        return self.path / name


@dataclass(frozen=True)
class Problem:
    """Why a run (or one of its files) is not shown."""

    where: str
    message: str


def runs_root_from_argv(argv: list[str] | None = None) -> Path:
    """The runs folder: `-- --runs DIR` after `streamlit run app.py`, else $ALIGNSMITH_RUNS, else ./runs."""
    argv = sys.argv[1:] if argv is None else argv
    for i, arg in enumerate(argv):
        if arg == "--runs" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--runs="):
            return Path(arg.split("=", 1)[1])
    return Path(os.environ.get("ALIGNSMITH_RUNS", "runs"))


def discover_runs(root: Path) -> tuple[list[Run], list[Problem]]:
    """Every run folder under `root` (finished ones and unfinished ones, flagged), newest first per kind."""
    runs: list[Run] = []
    problems: list[Problem] = []
    if not root.is_dir():
        problems.append(Problem(str(root), "runs folder not found: run a stage first (e.g. `alignsmith demo`)"
                                " or pass `alignsmith dashboard --runs DIR`"))
        return runs, problems
    for kind_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for run_dir in sorted((p for p in kind_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
                              key=lambda p: p.name, reverse=True):
            run = Run(kind_dir.name, run_dir.name, run_dir, is_done(run_dir))
            runs.append(run)
            if not run.done:
                problems.append(Problem(run.label, "no DONE file: the run is unfinished or was interrupted; "
                                                   "it is left out until it finishes (rerun the same "
                                                   "command to resume it)"))
    return runs, problems


def finished(runs: list[Run], kind: str) -> list[Run]:
    """The finished runs of one kind."""
    return [r for r in runs if r.kind == kind and r.done]


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


@st.cache_data(show_spinner=False, max_entries=64)
def _parquet_cached(path: str, mtime_ns: int, size: int, columns: tuple[str, ...] | None) -> pd.DataFrame:
    # mtime and size are part of the cache key: a rewritten file is read again.
    import pyarrow.parquet as pq
    table = pq.read_table(path, columns=list(columns) if columns else None)
    return table.to_pandas()


def read_parquet(path: Path, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """A Parquet file as a DataFrame (cached); RunReadError with the file name if it is not valid Parquet."""
    try:
        return _parquet_cached(*_stamp(path), columns)
    except FileNotFoundError as err:
        raise RunReadError(f"{path}: file is missing") from err
    except Exception as err:  # pyarrow raises several types for truncated or foreign files
        raise RunReadError(f"{path}: not a readable Parquet file ({type(err).__name__}: {err}); "
                           "delete the run folder and rerun the stage that wrote it") from err


@st.cache_data(show_spinner=False, max_entries=256)
def _text_cached(path: str, mtime_ns: int, size: int) -> str:
    return Path(path).read_text(encoding="utf-8")


def read_json(path: Path) -> dict | list:
    """A JSON file (cached); RunReadError naming the file and line if it does not parse."""
    try:
        return json.loads(_text_cached(*_stamp(path)))
    except FileNotFoundError as err:
        raise RunReadError(f"{path}: file is missing") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunReadError(f"{path}: not valid JSON ({err}); rerun the stage that wrote it") from err


def read_jsonl(path: Path) -> list[dict]:
    """JSON lines (cached file read); a bad line raises RunReadError with its line number, except a
    truncated last line (a writer is appending), which is skipped."""
    try:
        text = _text_cached(*_stamp(path))
    except FileNotFoundError as err:
        raise RunReadError(f"{path}: file is missing") from err
    rows = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            if number == len(lines) and not text.endswith("\n"):
                break  # the last line is still being appended (docs/formats.md: readers skip it)
            raise RunReadError(f"{path}:{number}: not valid JSON ({err.msg})") from err
    return rows


def read_config(run: Run) -> dict:
    """config.yaml as a dict ({} when absent); RunReadError if it does not parse."""
    path = run.file("config.yaml")
    if not path.exists():
        return {}
    try:
        loaded = yaml.safe_load(_text_cached(*_stamp(path)))
    except yaml.YAMLError as err:
        raise RunReadError(f"{path}: not valid YAML ({err})") from err
    return loaded if isinstance(loaded, dict) else {}


def read_metrics(run: Run) -> dict:
    """metrics.json ({metric: {value, ci_low, ci_high, higher_is_better, n}}), {} when absent."""
    path = run.file("metrics.json")
    if not path.exists():
        return {}
    loaded = read_json(path)
    if not isinstance(loaded, dict):
        raise RunReadError(f"{path}: expected an object of metrics, found {type(loaded).__name__}")
    return loaded


def model_name(run: Run, fallback: str | None = None) -> str:
    """The model a run used, from its config (else `fallback`, by default the run's folder name)."""
    fallback = run.name if fallback is None else fallback
    try:
        config = read_config(run)
    except RunReadError:
        return fallback
    for key in ("model_name", "model", "checkpoint", "model_path"):
        value = config.get(key)
        if isinstance(value, dict):  # eval runs record {model, model_path, lineage, ...}
            value = value.get("model") or value.get("name") or value.get("model_path")
        if isinstance(value, str) and value:
            return value
    return fallback
