"""Deduplication: exact (normalised hash), near-duplicate (MinHash + LSH) and semantic (embedding cosine).

`dedup_rows(rows, DedupConfig(...), reference=...)` is the Python API; the `dedup` filter is the same
as a pipeline step; `alignsmith curate dedup` is the command. The names are imported on first use, so
reading the settings (`dedup.settings`, for a command's --help) does not load numpy.
"""
from __future__ import annotations

from ..core.registry import lazy_exports

_EXPORTS = {
    "METHODS": "settings:METHODS",
    "DedupConfig": "settings:DedupConfig",
    "MinHashConfig": "settings:MinHashConfig",
    "dedup_rows": "core:dedup_rows",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
