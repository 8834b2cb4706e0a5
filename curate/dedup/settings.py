"""Dedup's settings, apart from the numpy code that runs them.

`alignsmith curate dedup --help` shows these fields' help, and building a parser must stay light (no numpy),
so the dataclasses live here; `dedup.core` and `dedup.minhash` import them. MinHash's default banding is
computed here too (with scipy, on first use), since `MinHashConfig.banding` answers it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..core.config import option
from ..core.quarantine import MAX_TEXT_CHARS

METHODS = ("exact", "minhash", "semantic")
DEFAULT_THRESHOLDS = {"exact": 1.0, "minhash": 0.5, "semantic": 0.85}


@dataclass(frozen=True)
class MinHashConfig:
    """How documents are shingled, hashed and banded. `bands`/`rows` default to datasketch's optimum for
    `threshold` and `num_perm` (minimising false positives + false negatives of the banding)."""

    threshold: float = option("estimated Jaccard similarity at or above which two texts are duplicates, in "
                              "[0, 1]; also picks the optimal banding", 0.5)
    num_perm: int = option("hash permutations per signature: more is a finer Jaccard estimate, slower", 128)
    shingle: str = option("char: character n-grams of the normalised text; word: word n-grams", "char")
    ngram: int = option("shingle length, in characters or words (see shingle)", 5)
    bands: int | None = option("LSH bands; with rows, bands * rows <= num_perm; null: optimal for threshold",
                               None)
    rows: int | None = option("signature rows per LSH band (with bands); null: optimal for threshold", None)
    seed: int = option("seed of the hash permutations (same seed, same signatures)", 0)
    chunk_size: int = option("documents hashed together in one matrix operation; bounds its memory", 2048)

    def banding(self) -> tuple[int, int]:
        """(bands, rows per band)."""
        if self.bands and self.rows:
            if self.bands * self.rows > self.num_perm:
                raise ValueError(f"bands*rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
            return self.bands, self.rows
        return _optimal_banding(self.threshold, self.num_perm)


@functools.lru_cache(maxsize=32)
def _optimal_banding(threshold: float, num_perm: int) -> tuple[int, int]:
    # The (bands, rows) that minimise false positives + false negatives of LSH banding, weighted equally:
    # the same rule as datasketch's MinHashLSH, so both sides of the benchmark band the same way. Written
    # here because datasketch only exposes it as a private function (`datasketch.lsh._optimal_param`);
    # tests/curate/test_minhash_banding.py checks it against MinHashLSH's choice. Integrates numerically
    # over ~num_perm*log(num_perm) candidates, hence the cache.
    from scipy.integrate import quad

    best, best_error = (0, 0), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            false_pos = quad(_candidate_probability, 0.0, threshold, args=(bands, rows))[0]
            false_neg = (1.0 - threshold) - quad(_candidate_probability, threshold, 1.0, args=(bands, rows))[0]
            if false_pos + false_neg < best_error:
                best, best_error = (bands, rows), false_pos + false_neg
    return best


def _candidate_probability(s: float, bands: int, rows: int) -> float:
    """Chance that a pair with Jaccard similarity s shares at least one band: 1 - (1 - s^rows)^bands."""
    return 1 - (1 - s ** rows) ** bands


@dataclass
class DedupConfig:
    """What counts as a duplicate and which copy stays."""

    method: str = option(
        "exact (same text after casefold/NFKC/whitespace), minhash (near-duplicate by estimated Jaccard of "
        "shingles) or semantic (all-MiniLM-L6-v2 embedding cosine)", "minhash")
    threshold: float | None = option(
        "rows this similar or more are duplicates: minhash Jaccard estimate, semantic cosine, in [0, 1]; "
        "null: 0.5 for minhash, 0.85 for semantic (exact ignores it)", None)
    text_field: str = option("the row field whose text is compared", "text")
    id_field: str = option("the row field that names a row in `duplicate_of` (rows without one: #index)", "id")
    keep: str = option("which row of a duplicate cluster stays: first (earliest row) or score (highest "
                       "score_field)", "first")
    score_field: str | None = option("dotted path of the score for keep: score, e.g. scores.reward", None)
    group_by: str | None = option("a field, e.g. prompt_id: rows are duplicates only of rows with the same "
                                  "value in it (not with reference rows); null: across all rows", None)
    minhash: MinHashConfig = option("how MinHash shingles, hashes and bands the texts (method minhash)",
                                    factory=MinHashConfig)
    embed_batch_size: int = option("texts embedded per batch (method semantic)", 64)
    max_chars: int = option("texts longer than this many characters are quarantined, not compared",
                            MAX_TEXT_CHARS)
    workers: int = option("processes hashing MinHash chunks (1: in this process)", 1)
    # Handed in by whoever runs the step; the step never names an executor.
    minhash_pairs: Callable[[Sequence[str], MinHashConfig], tuple[Any, Any]] | None = option(
        "runtime hook, not a setting: finds MinHash candidate pairs elsewhere (the Ray executor's shuffle by "
        "band) and returns them with their similarities as numpy arrays; null: in this process", None,
        repr=False, compare=False)

    def resolved_threshold(self) -> float:
        """The threshold in force (method default when unset)."""
        if self.method not in METHODS:
            raise ValueError(f"unknown dedup method {self.method!r}; use one of {', '.join(METHODS)}")
        return DEFAULT_THRESHOLDS[self.method] if self.threshold is None else float(self.threshold)
