"""The `dedup` filter: dedup as one step of a curation pipeline (it needs all rows at once).

A thin adapter over `dedup.dedup_rows`, the one dedup implementation (the `curate dedup` command uses it
too): options become a `DedupConfig`, `against` files become its reference rows, and its dropped rows
become this step's per-row reasons.
"""
from __future__ import annotations

from typing import Any, ClassVar

from ..core.datafiles import read_rows
from ..core.quarantine import text_of
from ..dedup.core import DedupConfig, dedup_rows
from ..dedup.minhash import MinHashConfig
from .base import FILTERS, Filter, Rejection

_MINHASH_KEYS = ("shingle", "ngram", "num_perm", "bands", "rows", "seed")
_POSITION = "_dedup_position"  # a batch row's index, carried through dedup_rows to map its drops back


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
                               keep=keep, score_field=score, group_by=group_by, minhash=MinHashConfig(**options))
        self.cfg.resolved_threshold()
        paths = [against] if isinstance(against, str) else list(against or [])
        # Rows of other datasets, read once, as rows `dedup_rows` reads: their text (from against_field) under
        # this step's field, their id (else the file's path) under its id_field.
        self.reference = []
        for path in paths:
            for r in read_rows(path):
                text = text_of(r.get(against_field or field))
                if text is not None:
                    self.reference.append({id_field: r.get(id_field, r.get("id", path)), field: text})

    def reject_batch(self, rows: list[dict]) -> list[str | None]:
        """`dedup_rows` on the batch, its drops turned back into per-row reasons (the pipeline adds the
        `dedup: ` prefix and keeps `duplicate_of` as a column)."""
        tagged = [{**r, _POSITION: i} for i, r in enumerate(rows)]
        _, dropped = dedup_rows(tagged, self.cfg, self.reference)
        reasons: list[str | None] = [None] * len(rows)
        for d in dropped:
            if d["drop_reason"].startswith("input: "):  # quarantined: text missing, not text, or too long
                reason = "unusable text: " + d["drop_reason"].removeprefix("input: ")
                reasons[d[_POSITION]] = Rejection(reason, duplicate_of=None)
            else:  # one Parquet type for duplicate_of
                reasons[d[_POSITION]] = Rejection(d["drop_reason"].removeprefix("dedup: "),
                                                  duplicate_of=str(d["duplicate_of"]))
        return reasons

    def reject(self, row: dict) -> str | None:
        """One row alone duplicates only the reference sets (`against`)."""
        return self.reject_batch([row])[0]


__all__ = ["Dedup", "dedup_rows"]
