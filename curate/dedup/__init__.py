"""Deduplication: exact (normalised hash), near-duplicate (MinHash + LSH) and semantic (embedding cosine).

`dedup_rows(rows, DedupConfig(...), reference=...)` is the Python API; the `dedup` filter is the same
as a pipeline step; `alignsmith curate dedup` is the command.
"""
from .core import METHODS, DedupConfig, dedup_rows
from .minhash import MinHashConfig

__all__ = ["METHODS", "DedupConfig", "MinHashConfig", "dedup_rows"]
