"""Deduplicate rows by a text field: exact, MinHash near-duplicate, or semantic (embedding cosine).

`dedup_rows` is the one entry point (the CLI, the pipeline's `dedup` filter and the Ray executor all
end here or in its pieces). Rows whose text is unusable are quarantined, not guessed at.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from ..core.quarantine import quarantined, text_of, text_problem
from ..core.records import normalise_text, stable_hash
from .clusters import duplicate_of, priorities
from .minhash import near_duplicate_pairs
from .settings import DedupConfig


def exact_pairs(texts: Sequence[str]) -> np.ndarray:
    """Pairs (first, other) of texts equal after `normalise_text` (casefold, NFKC, whitespace)."""
    first_seen: dict[str, int] = {}
    pairs = []
    for i, t in enumerate(texts):
        key = stable_hash(normalise_text(t), length=32)
        if key in first_seen:
            pairs.append((first_seen[key], i))
        else:
            first_seen[key] = i
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def semantic_pairs(texts: Sequence[str], threshold: float, batch_size: int = 64,
                   block: int = 2048) -> np.ndarray:
    """Pairs (i < j) whose all-MiniLM-L6-v2 embeddings have cosine >= threshold (blockwise, O(n^2))."""
    from ..core.embeddings import embed
    vectors = embed(list(texts), batch_size=batch_size)
    found = []
    for start in range(0, len(vectors), block):
        sims = vectors[start:start + block] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        rows = rows + start
        upper = cols > rows
        found.append(np.stack([rows[upper], cols[upper]], axis=1))
    return np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)


def find_pairs(texts: Sequence[str], cfg: DedupConfig) -> np.ndarray:
    """Duplicate pairs among `texts` by the configured method."""
    threshold = cfg.resolved_threshold()
    if cfg.method == "exact":
        return exact_pairs(texts)
    if cfg.method == "minhash":
        mh = replace(cfg.minhash, threshold=threshold)
        if cfg.minhash_pairs is not None:
            return cfg.minhash_pairs(texts, mh)[0]
        pairs, _, _ = near_duplicate_pairs(texts, mh, cfg.workers)
        return pairs
    return semantic_pairs(texts, threshold, cfg.embed_batch_size)


def duplicate_indices(texts: Sequence[str], cfg: DedupConfig, n_reference: int = 0,
                      scores: Sequence[float | None] | None = None,
                      groups: Sequence[Any] | None = None) -> np.ndarray:
    """For texts = [reference texts..., own texts...]: index each text duplicates, or -1 to keep it.

    `groups` (one per text, references included) limits duplicates to texts of the same group, e.g.
    responses to the same prompt.
    """
    pairs = find_pairs(texts, cfg)
    if groups is not None and len(pairs):
        codes = np.unique(np.array([str(g) for g in groups], dtype=object), return_inverse=True)[1]
        pairs = pairs[codes[pairs[:, 0]] == codes[pairs[:, 1]]]
    own = len(texts) - n_reference
    return duplicate_of(len(texts), pairs, priorities(n_reference, own, scores))


def dig(row: dict, dotted: str) -> Any:
    """row["a"]["b"] for "a.b" (None when any part is missing)."""
    value: Any = row
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def row_id(row: dict, cfg: DedupConfig, index: int) -> Any:
    """The row's id (from `id_field`), or its position `#index` when it has none."""
    value = row.get(cfg.id_field)
    return value if value is not None else f"#{index}"


def dedup_rows(rows: Sequence[dict], cfg: DedupConfig = DedupConfig(),
               reference: Sequence[dict] = ()) -> tuple[list[dict], list[dict]]:
    """Split rows into (kept, dropped). Dropped duplicates carry `duplicate_of` (the kept row's id, or the
    reference row's id when `reference` — rows of other datasets — already has the text), `similarity_method`
    and `drop_reason`; rows with unusable text are quarantined with an `input:` reason. With
    `cfg.group_by`, a row duplicates only rows with the same value in that field (no reference rows then)."""
    cfg.resolved_threshold()  # fail early on a bad method
    if cfg.group_by and reference:
        raise ValueError("dedup: use either group_by or reference rows (against), not both")
    good, dropped = [], []
    for i, r in enumerate(rows):
        problem = text_problem(r, cfg.text_field, cfg.max_chars)
        if problem:
            dropped.append({**quarantined(r, problem), "duplicate_of": None})
        else:
            good.append((i, r))
    refs = [r for r in reference if text_problem(r, cfg.text_field, cfg.max_chars) is None]
    texts = [text_of(r[cfg.text_field]) for r in refs] + [text_of(r[cfg.text_field]) for _, r in good]
    scores = None
    if cfg.keep == "score":
        if not cfg.score_field:
            raise ValueError("keep='score' needs score_field (e.g. 'scores.reward')")
        scores = [dig(r, cfg.score_field) for _, r in good]
    elif cfg.keep != "first":
        raise ValueError(f"keep must be 'first' or 'score', got {cfg.keep!r}")
    groups = [r.get(cfg.group_by) for _, r in good] if cfg.group_by else None
    dup = duplicate_indices(texts, cfg, len(refs), scores, groups)
    ids = [row_id(r, cfg, -1) for r in refs] + [row_id(r, cfg, i) for i, r in good]
    kept = []
    for k, (_, r) in enumerate(good):
        target = dup[len(refs) + k]
        if target < 0:
            kept.append(r)
            continue
        where = "reference set" if target < len(refs) else "this set"
        dropped.append({**r, "duplicate_of": ids[target], "similarity_method": cfg.method,
                        "drop_reason": f"dedup: {cfg.method} duplicate of {ids[target]!r} ({where})"})
    return kept, dropped
