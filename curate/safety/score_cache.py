"""On-disk cache of the safety models' raw probabilities, so a text is run through a model once.

Curation at scale sees the same prompt many times (n candidates per prompt, a scorer and a filter in one
config, a rerun after changing a later step). The cache maps (namespace, sha256 of the text) to the
model's probability for it. The namespace is a hash of everything the number depends on: the head file's
bytes (a refit invalidates it), the feature model's identity (its config and weight files' sizes and
times), the feature settings and alignsmith's version. Only model outputs are stored; the phrase rules and
thresholds are applied on top at read time, so changing a threshold needs no new cache.
SQLite (standard library) gives atomic writes and safe use from several processes (Ray workers on one
machine share the file); a cache that cannot be opened is skipped with a warning, never a failure.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import warnings
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence

CACHE_ENV_OFF = "ALIGNSMITH_SAFETY_CACHE"  # set to "0" to switch the cache off everywhere (baseline runs)


def default_cache_path() -> Path:
    """$ALIGNSMITH_CACHE/safety/scores.sqlite (default ~/.cache/alignsmith/safety/scores.sqlite)."""
    from ..core.models import cache_dir
    return cache_dir() / "safety" / "scores.sqlite"


def text_key(text: str) -> str:
    """The cache key of one text: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def head_file_bytes(weights: str | os.PathLike) -> bytes:
    """The bytes of a head file given as a path or as the name of a head shipped in this package."""
    path = Path(weights)
    if path.exists():
        return path.read_bytes()
    return resources.files(__package__).joinpath(str(weights)).read_bytes()


def model_identity(folder: str | os.PathLike) -> dict:
    """What identifies a model folder cheaply: each config/tokenizer file's hash, each weight file's size
    and modification time (hashing hundreds of MB on every start would cost more than it saves)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {"name": str(folder)}
    out = {}
    for f in sorted(folder.iterdir()):
        if f.suffix in (".json", ".txt", ".model"):
            out[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()[:16]
        elif f.suffix in (".safetensors", ".bin", ".gguf"):
            stat = f.stat()
            out[f.name] = [stat.st_size, int(stat.st_mtime)]
    return out


def namespace(**parts) -> str:
    """A short hash of everything a cached number depends on (pass bytes for files, dicts for settings)."""
    digest = hashlib.sha256(_package_version().encode())
    for name in sorted(parts):
        value = parts[name]
        blob = value if isinstance(value, bytes) else json.dumps(value, sort_keys=True, default=str).encode()
        digest.update(name.encode() + b"\0" + hashlib.sha256(blob).digest())
    return digest.hexdigest()[:32]


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("alignsmith")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def cache_enabled(option: object = True) -> bool:
    """The cache is on unless the option says false or $ALIGNSMITH_SAFETY_CACHE=0."""
    return bool(option) and os.environ.get(CACHE_ENV_OFF, "1") not in ("0", "false", "no", "off")


class ScoreCache:
    """(namespace, text hash) → probability, in one SQLite file."""

    def __init__(self, space: str, path: str | os.PathLike | None = None):
        self.space = space
        self.path = Path(path) if path else default_cache_path()
        self.hits = self.misses = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60)
            self._db.execute("PRAGMA journal_mode=WAL")  # readers never wait for another process's writer
            self._db.execute("CREATE TABLE IF NOT EXISTS scores (space TEXT NOT NULL, key TEXT NOT NULL, "
                             "value REAL NOT NULL, PRIMARY KEY (space, key))")
            self._db.commit()
        except (sqlite3.Error, OSError) as err:
            warnings.warn(f"safety score cache {self.path} not usable ({err}); scoring without it")
            self._db = None

    def get_many(self, keys: Sequence[str]) -> dict[str, float]:
        """Cached values for the keys that have one."""
        found: dict[str, float] = {}
        if self._db is None:
            return found
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite limits the number of bound parameters
            chunk = unique[start:start + 500]
            rows = self._db.execute(f"SELECT key, value FROM scores WHERE space = ? AND key IN "
                                    f"({','.join('?' * len(chunk))})", [self.space, *chunk])
            found.update(rows)
        return found

    def put_many(self, values: dict[str, float]) -> None:
        """Store key → value pairs in one transaction."""
        if self._db is None or not values:
            return
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?)",
                                     [(self.space, k, float(v)) for k, v in values.items()])
        except sqlite3.Error as err:  # a full disk or a locked file costs speed, never results
            warnings.warn(f"safety score cache {self.path}: could not store scores ({err})")

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return self._db.execute("SELECT COUNT(*) FROM scores WHERE space = ?", [self.space]).fetchone()[0]


def cached_scores(texts: Sequence[str], compute: Callable[[list[str]], Sequence[float]],
                  cache: ScoreCache | None) -> list[float]:
    """`compute` over the distinct texts that the cache does not hold; values for every text, in order."""
    unique = list(dict.fromkeys(texts))
    keys = {t: text_key(t) for t in unique}
    known = cache.get_many(list(keys.values())) if cache is not None else {}
    todo = [t for t in unique if keys[t] not in known]
    fresh = dict(zip(todo, (float(v) for v in compute(todo)))) if todo else {}
    if cache is not None:
        cache.hits += len(unique) - len(todo)
        cache.misses += len(todo)
        cache.put_many({keys[t]: v for t, v in fresh.items()})
    value = {t: fresh[t] if t in fresh else known[keys[t]] for t in unique}
    return [value[t] for t in texts]
