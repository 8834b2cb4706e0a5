"""On-disk cache of raw judge replies, so rerunning a judge over the same texts costs nothing.

Keyed by (judge model, prompt template hash, kind and order, the texts, decoding settings). Only the raw
reply is stored: parsing is redone on read, so a parser fix applies to cached replies too.
SQLite (standard library) gives atomic writes and safe use from several processes.
"""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from ..core.records import stable_hash


def default_cache_path() -> Path:
    """$ALIGNSMITH_CACHE/judge/judgements.sqlite (default ~/.cache/alignsmith/judge/...)."""
    from ..core.models import cache_dir
    return cache_dir() / "judge" / "judgements.sqlite"


def judgement_key(*, model: str, template: str, kind: str, order: str, texts: list[str], decoding: dict) -> str:
    """The cache key of one judge call."""
    return stable_hash({"model": model, "template": template, "kind": kind, "order": order, "texts": texts,
                        "decoding": decoding}, length=32)


class JudgeCache:
    """A key → raw reply table in one SQLite file."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("CREATE TABLE IF NOT EXISTS judgements (key TEXT PRIMARY KEY, model TEXT, "
                         "kind TEXT, ord TEXT, output TEXT NOT NULL, created REAL)")
        self._db.commit()

    def get_many(self, keys: list[str]) -> dict[str, str]:
        """Cached replies for the keys that have one."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite limits the number of bound parameters
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, output in self._db.execute(
                    f"SELECT key, output FROM judgements WHERE key IN ({marks})", chunk):
                found[key] = output
        return found

    def put_many(self, items: list[tuple[str, str, str, str, str]]) -> None:
        """Store (key, model, kind, order, output) rows in one transaction."""
        now = time.time()
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO judgements VALUES (?, ?, ?, ?, ?, ?)",
                                 [(*item, now) for item in items])

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM judgements").fetchone()[0]

    def close(self) -> None:
        self._db.close()
