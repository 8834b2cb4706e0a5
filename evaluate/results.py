"""Reading eval run folders, and the results index over them (what `runs ls` and the dashboard show).

The index is rebuilt from the run folders each time it is read rather than kept in a shared file:
a run folder counts only once its DONE marker exists (written last, atomically), so any number of eval
jobs can write runs at once and a reader never sees a half-written run or a corrupted index.
Light imports only (pandas, yaml): the dashboard reads this module.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alignsmith.curate.core.runs import DONE_FILE, is_done, runs_root  # noqa: F401  (dashboards read them here)


class IncompleteRunError(FileNotFoundError):
    """A run folder without DONE (still running, or crashed): never read as a finished result."""


@dataclass
class EvalRun:
    """One finished eval run: its config, metrics.json and per-item rows."""

    path: Path
    config: dict
    metrics: dict
    items: Any  # pandas.DataFrame, one row per task item

    @property
    def name(self) -> str:
        """A short label: the run's label (or model name) plus the folder name."""
        record = self.config.get("model") or {}
        model = record.get("label") or record.get("model") or "responses"
        return f"{model}@{self.path.name}"

    def item_level(self):
        """items with one row per (task, item): numeric columns averaged over sampled responses."""
        return item_level(self.items)

    @property
    def task_versions(self) -> dict[str, str]:
        """Task name → version, as recorded in config.yaml."""
        return {t: str(info.get("version")) for t, info in (self.config.get("tasks") or {}).items()}

    def metric_specs(self) -> dict[str, dict]:
        """`<task>/<metric>` → {task, name, higher_is_better, weight} for the per-item metrics."""
        specs = {}
        for task, info in (self.config.get("tasks") or {}).items():
            for m in info.get("metrics") or []:
                specs[f"{task}/{m['name']}"] = {"task": task, **m}
        return specs


def item_level(items):
    """One row per (task, item_id, prompt_id); with several samples per item, numeric columns are means."""
    keys = ["task", "item_id", "prompt_id"]
    if items.empty or not items.duplicated(keys).any():
        return items
    numeric = items.groupby(keys, sort=False).mean(numeric_only=True)
    # Numeric means ignore NaN, so a metric that does not apply to an item stays NaN.
    return numeric.reset_index()


def load_eval_run(path: str | os.PathLike) -> EvalRun:
    """Read a finished eval run folder; an unfinished one raises IncompleteRunError."""
    import pandas as pd
    path = Path(path)
    if not (path / "config.yaml").exists():
        raise FileNotFoundError(f"{path} is not a run folder (no config.yaml)")
    if not is_done(path):
        raise IncompleteRunError(f"{path} has no DONE marker: the run is unfinished or crashed; "
                                 "re-run the same command to resume it")
    config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8")) or {}
    if config.get("kind") != "eval":
        raise ValueError(f"{path} is a {config.get('kind')!r} run, not an eval run")
    metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    items_file = path / "items.parquet"
    items = pd.read_parquet(items_file) if items_file.exists() else pd.DataFrame()
    return EvalRun(path, config, metrics, items)


def finished_runs(root: str | os.PathLike | None = None, kind: str = "eval") -> list[Path]:
    """Finished run folders of a kind under the runs root, oldest first."""
    base = Path(root) if root is not None else runs_root()
    folder = base / kind
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and is_done(p))


def index_row(path: Path) -> dict:
    """One results-index row: where, which model/checkpoint, which tasks, when, and every metric value."""
    config = yaml.safe_load((path / "config.yaml").read_text(encoding="utf-8")) or {}
    metrics_file = path / "metrics.json"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.exists() else {}
    model = config.get("model") or {}
    lineage = model.get("lineage") or {}
    return {"run": str(path), "run_id": path.name, "model": model.get("model"),
            "checkpoint": lineage.get("checkpoint") or lineage.get("run") or model.get("model_path"),
            "tasks": ",".join(config.get("tasks") or {}), "limit": config.get("limit"),
            "started_at": config.get("started_at"), "git_sha": config.get("git_sha"),
            "metrics": {k: v.get("value") for k, v in metrics.items() if isinstance(v, dict)}}


def results_index(root: str | os.PathLike | None = None) -> list[dict]:
    """Index rows for every finished eval run (rebuilt from the folders: safe with concurrent writers)."""
    rows = []
    for path in finished_runs(root):
        try:
            rows.append(index_row(path))
        except (OSError, ValueError, yaml.YAMLError) as e:  # a damaged folder is reported, not hidden
            rows.append({"run": str(path), "run_id": path.name, "error": str(e)})
    return rows
