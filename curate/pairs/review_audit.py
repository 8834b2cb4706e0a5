"""A sample of pairs for a quality audit, stratified by margin and category.

Strata are (category, margin band): margins are cut at the run's own quantiles into `bands` bands, so
thin-margin pairs (where the scorer was least sure) are audited as surely as clear ones. N is split over
strata in proportion to their size (largest remainders), with at least one item per stratum when N
allows, and items are drawn within a stratum with a seeded RNG: the same run, N and seed give the same
sample.
"""
from __future__ import annotations

import math
import os
import random
from collections import defaultdict
from pathlib import Path

from ..core.datafiles import read_parquet, write_jsonl
from ..core.errors import InputError
from ..core.runs import is_done
from .reviews import item_id


def margin_bands(margins: list[float], bands: int) -> list[float]:
    """Upper edges of `bands` equal-count margin bands (deduplicated; the last edge is +inf)."""
    ordered = sorted(margins)
    edges = sorted({ordered[min(len(ordered) - 1, math.ceil(len(ordered) * k / bands) - 1)]
                    for k in range(1, bands)}) if ordered else []
    return edges + [math.inf]


def band_of(margin: float, edges: list[float]) -> int:
    """Index of the band `margin` falls in (bands are closed on the right)."""
    return next(i for i, edge in enumerate(edges) if margin <= edge)


def allocate(sizes: dict, n: int) -> dict:
    """Split `n` over strata proportionally to `sizes` (largest remainders), at least 1 each if n allows."""
    total = sum(sizes.values())
    n = min(n, total)
    if n >= len(sizes):
        base = {k: 1 for k in sizes}
        rest, spare = n - len(sizes), {k: v - 1 for k, v in sizes.items()}
    else:
        base, rest, spare = {k: 0 for k in sizes}, n, dict(sizes)
    spare_total = sum(spare.values())
    if rest and spare_total:
        quotas = {k: rest * v / spare_total for k, v in spare.items()}
        extra = {k: min(spare[k], math.floor(q)) for k, q in quotas.items()}
        order = sorted(sizes, key=lambda k: (-(quotas[k] - extra[k]), str(k)))
        left = rest - sum(extra.values())
        for k in order * 2:  # a second pass covers strata capped by their size
            if left <= 0:
                break
            if extra[k] < spare[k]:
                extra[k] += 1
                left -= 1
        base = {k: base[k] + extra[k] for k in sizes}
    return base


def sample_for_audit(rows: list[dict], n: int, *, seed: int = 0, bands: int = 4) -> list[dict]:
    """`n` pairs stratified by category and margin band; each comes with `item_id` and `stratum`."""
    if n < 1:
        raise InputError(f"--n must be at least 1, got {n}", field="n")
    margins = [float(r.get("margin") or 0.0) for r in rows]
    edges = margin_bands(margins, bands)
    strata: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for row, margin in zip(rows, margins):
        strata[(str(row.get("category") or "uncategorised"), band_of(margin, edges))].append(row)
    quota = allocate({k: len(v) for k, v in strata.items()}, n)
    rng = random.Random(seed)
    picked = []
    for key in sorted(strata):
        members = sorted(strata[key], key=item_id)  # a fixed order before drawing: input order must not matter
        for row in rng.sample(members, quota[key]):
            low = edges[key[1] - 1] if key[1] else -math.inf
            picked.append({**row, "item_id": item_id(row),
                           "stratum": f"{key[0]} | margin in ({low:.3g}, {edges[key[1]]:.3g}]"})
    return picked


def _sample_table(dpo: Path, n: int, seed: int, bands: int) -> list[dict]:
    """sample_for_audit over only the id, margin and category columns, then the full rows of the picks:
    converting every chat column of a 100k-pair file to Python takes most of the time otherwise."""
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(dpo)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise InputError(f"cannot read Parquet: {e}", path=str(dpo)) from e
    ids = [c for c in ("pair_id", "prompt_id", "chosen_id", "rejected_id") if c in table.column_names]
    if not ("pair_id" in ids or {"chosen_id", "rejected_id"} <= set(ids)):
        return sample_for_audit(read_parquet(dpo), n, seed=seed, bands=bands)  # ids need the texts
    light = table.select(ids + [c for c in ("margin", "category") if c in table.column_names]).to_pylist()
    for position, row in enumerate(light):
        row["_row"] = position
    picks = sample_for_audit(light, n, seed=seed, bands=bands)
    full = table.take([p["_row"] for p in picks]).to_pylist()
    return [{**row, "item_id": p["item_id"], "stratum": p["stratum"]} for row, p in zip(full, picks)]


def write_audit_sample(run_path: str | os.PathLike, n: int, *, seed: int = 0, bands: int = 4,
                       out: str | os.PathLike | None = None) -> tuple[Path, list[dict]]:
    """Sample a finished pairs run for audit and write the sample as JSONL (default: beside the run)."""
    run_path = Path(run_path)
    dpo = run_path / "dpo.parquet"
    if not dpo.exists() or not is_done(run_path):
        raise InputError("not a finished pairs run folder (needs dpo.parquet and DONE)", path=str(run_path))
    picked = _sample_table(dpo, n, seed, bands)
    target = Path(out) if out else run_path.resolve().with_name(run_path.resolve().name + ".audit.jsonl")
    if is_done(target.parent):
        raise InputError("the audit sample goes beside the run folder, never inside it", path=str(target))
    write_jsonl(target, picked)
    return target, picked
