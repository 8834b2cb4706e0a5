"""Is a path part of an unfinished run folder, and what exactly did a stage read? (below runs.py)

Readers call `require_finished` before reading any user path, so a killed or still-running stage's output
is never read as finished; stages record `input_fingerprint` of what they read in their config, so a
changed input is a changed config (and a finished folder is never rewritten from other data).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import InputError

# Written last into a run folder (runs.RunFolder.mark_done): a folder without it is unfinished, is resumed
# and is never read as finished. Every reader and writer of the marker goes through these two names.
DONE_FILE = "DONE"
# Files inside a run folder that say nothing about its content.
_NOT_CONTENT = (DONE_FILE, "LOCK")


def is_done(folder: str | os.PathLike) -> bool:
    """True when the run folder is finished (its DONE file exists)."""
    return (Path(folder) / DONE_FILE).exists()


def run_config(folder: str | os.PathLike) -> dict | None:
    """The config.yaml of an alignsmith run folder (one that records `kind` and `config_hash`), else None."""
    f = Path(folder) / "config.yaml"
    if not f.is_file():
        return None
    try:
        import yaml
        config = yaml.safe_load(f.read_text(encoding="utf-8"))
    except Exception:  # unreadable: not treated as a run folder here (readers report damage themselves)
        return None
    return config if isinstance(config, dict) and "kind" in config and "config_hash" in config else None


def run_folder_of(path: str | os.PathLike) -> Path | None:
    """The run folder holding `path` (itself, its parent or grandparent: `candidates/shard-*.parquet`)."""
    p = Path(path)
    for candidate in (p, *list(p.parents)[:2]):
        if run_config(candidate) is not None:
            return candidate
    return None


def require_finished(path: str | os.PathLike) -> None:
    """Refuse a path inside a run folder that has no DONE (killed, or still running), saying how to resume."""
    run = run_folder_of(path)
    if run is None or is_done(run):
        return
    config = run_config(run) or {}
    kind, command = str(config.get("kind") or ""), config.get("command")
    how = (f"rerun `{command}`" if command else f"rerun the `alignsmith {kind or '<stage>'}` command that made it "
           f"with --out {run}")
    raise InputError(f"{run} is an unfinished {kind + ' ' if kind else ''}run (no DONE file: it was killed or is "
                     f"still running); its outputs are incomplete. Resume it: {how}; or pass a finished run",
                     path=str(path))


def hash_file_into(digest, path: str | os.PathLike) -> None:
    """Feed a file's bytes into a hashlib digest, a megabyte at a time (files can be GBs)."""
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    hash_file_into(digest, path)
    return digest.hexdigest()


def input_fingerprint(path: str | os.PathLike) -> dict:
    """What a stage read: the path, the run folder's name and kind when it is one, and a SHA-256 of the
    content (every file under a folder except DONE/LOCK and hidden temporary files, by relative name)."""
    p = Path(path)
    if not p.exists():
        raise InputError("file does not exist", path=str(p))
    run = run_folder_of(p)
    digest = hashlib.sha256()
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        rel = f.relative_to(p) if p.is_dir() else Path(f.name)
        if f.name in _NOT_CONTENT or any(part.startswith(".") for part in rel.parts):
            continue
        digest.update(str(rel).encode() + b"\0")
        hash_file_into(digest, f)
        digest.update(b"\0")
    found = {"path": str(p), "sha256": digest.hexdigest()}
    if run is not None:
        config = run_config(run) or {}
        found.update(run=run.name, run_kind=config.get("kind"), run_config_hash=config.get("config_hash"))
    return found
