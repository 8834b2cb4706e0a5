"""The `dedup` filter: dedup as one step of a curation pipeline (it needs all rows at once)."""
from __future__ import annotations

from typing import Any, ClassVar

from ..core.datafiles import read_rows
from ..core.quarantine import text_of, text_problem
from ..dedup.core import DedupConfig, dedup_rows, dig, duplicate_indices, row_id
from ..dedup.minhash import MinHashConfig
from .base import FILTERS, Filter, Rejection

_MINHASH_KEYS = ("shingle", "ngram", "num_perm", "bands", "rows", "seed")


@FILTERS.register("dedup")
class Dedup(Filter):
    """Drops duplicate rows (exact, minhash or semantic on `field`), keeping one per cluster.

    Options: method, field ("response" or "prompt"), threshold, keep ("first" | "score") with score (a
    dotted path such as "scores.reward"), group_by (e.g. "prompt_id": responses to the same prompt only),
    against (paths of other datasets whose rows count as already kept; against_field names their text),
    id_field, and the MinHash settings shingle, ngram, num_perm, bands, rows, seed.
    """

    name = "dedup"
    # The MinHash settings, read from **options (see _MINHASH_KEYS).
    OPTIONS: ClassVar[dict] = {"shingle": str, "ngram": int, "num_perm": int, "bands": int | None,
                               "rows": int | None, "seed": int}
    whole_dataset = True  # duplicates are relative to other rows: the executor passes the full set

    def __init__(self, method: str = "minhash", field: str = "response", threshold: float | None = None,
                 keep: str = "first", score: str | None = None, group_by: str | None = None,
                 against: list[str] | str | None = None, against_field: str | None = None,
                 id_field: str = "candidate_id", **options: Any):
        super().__init__(method=method, field=field, threshold=threshold, keep=keep, score=score,
                         group_by=group_by, against=against, against_field=against_field,
                         id_field=id_field, **options)
        unknown = set(options) - set(_MINHASH_KEYS)
        if unknown:
            raise ValueError(f"dedup filter: unknown option(s) {sorted(unknown)}")
        self.cfg = DedupConfig(method=method, threshold=threshold, text_field=field, id_field=id_field,
                               keep=keep, score_field=score, minhash=MinHashConfig(**options))
        self.cfg.resolved_threshold()
        self.group_by = group_by
        paths = [against] if isinstance(against, str) else list(against or [])
        self.reference = []
        for path in paths:  # rows of other datasets, read once; their text lives in against_field
            for r in read_rows(path):
                text = text_of(r.get(against_field or field))
                if text is not None:
                    self.reference.append({"id": r.get(id_field, r.get("id", path)), "text": text})

    def reject_batch(self, rows: list[dict]) -> list[str | None]:
        reasons: list[str | None] = [None] * len(rows)
        usable = []
        for i, r in enumerate(rows):
            problem = text_problem(r, self.cfg.text_field, self.cfg.max_chars)
            if problem:
                reasons[i] = Rejection(f"unusable text: {problem}", duplicate_of=None)
            else:
                usable.append(i)
        if self.group_by and self.reference:
            raise ValueError("dedup filter: use either group_by or against, not both")
        texts = [ref["text"] for ref in self.reference] + [text_of(rows[i][self.cfg.text_field]) for i in usable]
        scores = [dig(rows[i], self.cfg.score_field) for i in usable] if self.cfg.keep == "score" else None
        groups = [rows[i].get(self.group_by) for i in usable] if self.group_by else None
        dup = duplicate_indices(texts, self.cfg, len(self.reference), scores, groups)
        n_ref = len(self.reference)
        ids = [ref["id"] for ref in self.reference] + [row_id(rows[i], self.cfg, i) for i in usable]
        for k, i in enumerate(usable):
            target = dup[n_ref + k]
            if target >= 0:
                where = "reference set" if target < n_ref else "this set"
                reasons[i] = Rejection(f"{self.cfg.method} duplicate of {ids[target]!r} ({where})",
                                       duplicate_of=str(ids[target]))  # one Parquet type
        return reasons

    def reject(self, row: dict) -> str | None:
        """One row alone duplicates only the reference sets (`against`)."""
        return self.reject_batch([row])[0]


__all__ = ["Dedup", "dedup_rows"]
