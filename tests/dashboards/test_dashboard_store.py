"""Run-folder reading for the dashboard: discovery, cache invalidation and readable errors."""
from __future__ import annotations

import os

import pandas as pd
import pytest

from alignsmith.dashboards.store import RunReadError, discover_runs, read_jsonl, read_parquet, runs_root_from_argv


def test_discovery_flags_unfinished_runs_and_a_missing_root(tmp_path):
    (tmp_path / "eval" / "a").mkdir(parents=True)
    (tmp_path / "eval" / "a" / "DONE").write_text("x")
    (tmp_path / "eval" / "b").mkdir()
    runs, problems = discover_runs(tmp_path)
    assert [(r.label, r.done) for r in runs] == [("eval/b", False), ("eval/a", True)]
    assert [p.where for p in problems] == ["eval/b"] and "no DONE" in problems[0].message
    runs, problems = discover_runs(tmp_path / "missing")
    assert runs == [] and "runs folder not found" in problems[0].message


def test_parquet_cache_rereads_a_rewritten_file(tmp_path):
    path = tmp_path / "rows.parquet"
    pd.DataFrame({"x": [1, 2]}).to_parquet(path)
    assert read_parquet(path)["x"].tolist() == [1, 2]
    pd.DataFrame({"x": [3, 4, 5]}).to_parquet(path)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a distinct mtime even on coarse clocks
    assert read_parquet(path)["x"].tolist() == [3, 4, 5]


def test_corrupt_parquet_is_a_readable_error(tmp_path):
    path = tmp_path / "items.parquet"
    path.write_bytes(b"PAR1 truncated")
    with pytest.raises(RunReadError, match=r"items\.parquet: not a readable Parquet file .*rerun the stage"):
        read_parquet(path)


def test_jsonl_skips_a_line_being_appended_but_not_a_broken_middle_line(tmp_path):
    path = tmp_path / "train_evals.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "prom')
    assert [r["step"] for r in read_jsonl(path)] == [1, 2]
    path.write_text('{"step": 1}\nnot json\n{"step": 3}\n')
    with pytest.raises(RunReadError, match=r"train_evals\.jsonl:2"):
        read_jsonl(path)


def test_runs_root_from_the_command_line_or_environment(monkeypatch, tmp_path):
    assert runs_root_from_argv(["--runs", "/x/runs"]).as_posix() == "/x/runs"
    assert runs_root_from_argv(["--runs=/y"]).as_posix() == "/y"
    monkeypatch.setenv("ALIGNSMITH_RUNS", str(tmp_path))
    assert runs_root_from_argv([]) == tmp_path
