"""`--executor ray` for curation: the same filters on Ray Data, MinHash-LSH as a shuffle by band.

Per-row filters run in `map_batches` tasks, each rebuilding the pipeline's filters from their specs (name +
options) once per process; rows travel as JSON text so Arrow never has to unify nested row types. Filters
that need the whole dataset (dedup) run on the driver, except MinHash banding: signatures and band keys
are computed in `map_batches`, exploded to (band, key, row) records and grouped by (band, key) — the
distributed shuffle — and each bucket yields its candidate pairs exactly as the local code does (star to
the bucket's first row plus a chain), so verification and clustering on the driver give identical output.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np

from ..core.funnel import funnel_entry
from ..dedup.minhash import MinHashConfig, MinHasher, verify_pairs
from ..steps.base import Filter, apply_one_filter
from .run import build_step, run_steps_local

_BUILT: dict[str, list] = {}  # per worker process: filters built from a spec list, reused across batches


def start_ray(options: dict | None = None) -> None:
    """Use the running Ray, `options["address"]` (else $RAY_ADDRESS, e.g. a cluster made with `ray start`),
    or start a local one (2 CPUs, no dashboard)."""
    from ..generate.ray import init_ray
    options = dict(options or {})
    if not options.get("address") and os.environ.get("RAY_ADDRESS"):
        options["address"] = os.environ["RAY_ADDRESS"]
    init_ray(options)


def _num_blocks(n: int, per_block: int) -> int:
    """Enough blocks to keep every CPU busy, few enough that per-block overhead stays small."""
    import ray
    cpus = int(ray.available_resources().get("CPU", 2)) or 2
    return max(1, min(4 * cpus, -(-n // per_block)))


def _filters_for(specs_json: str) -> list:
    if specs_json not in _BUILT:
        _BUILT[specs_json] = [build_step(s)[2] for s in json.loads(specs_json)]
    return _BUILT[specs_json]


def _reject_rows(batch: dict, specs_json: str) -> dict:
    """Ray task: first rejecting filter per row → (step position, reason, extra columns as JSON), and each
    filter's seconds on this batch (in the batch's first row, zeros elsewhere, so a column sum is the total)."""
    filters = _filters_for(specs_json)
    rows = [json.loads(r) for r in batch["row"]]
    step = np.full(len(rows), -1, dtype=np.int64)
    reason = [""] * len(rows)
    extra = ["{}"] * len(rows)
    seconds = np.zeros((len(rows), len(filters)), dtype=np.float64)
    alive = list(range(len(rows)))
    for k, f in enumerate(filters):
        started = time.perf_counter()
        verdicts = f.reject_batch([rows[i] for i in alive])
        if len(rows):
            seconds[0, k] = time.perf_counter() - started
        still = []
        for i, v in zip(alive, verdicts):
            if v is None:
                still.append(i)
            else:
                step[i], reason[i] = k, str(v)
                extra[i] = json.dumps(getattr(v, "fields", {}), default=str)
        alive = still
    # filters may annotate rows in place (e.g. safety_policy's label mode): send changed fields back
    changed = []
    for sent, row in zip(batch["row"], rows):
        before = json.loads(sent)
        changed.append(json.dumps({k: v for k, v in row.items() if before.get(k, _MISSING) != v}, default=str))
    return {"idx": batch["idx"], "step": step, "reason": np.array(reason, dtype=object),
            "extra": np.array(extra, dtype=object), "changed": np.array(changed, dtype=object), "seconds": seconds}


_MISSING = object()


def _spec_of(kind: str, name: str, part: Any) -> dict:
    return {kind: name, **{k: v for k, v in part.options.items()}}


def _row_segment_on_ray(rows: list[dict], segment: list[tuple[str, str, Filter]]):
    import ray.data
    specs_json = json.dumps([_spec_of(*s) for s in segment], default=str)
    items = [{"idx": i, "row": json.dumps(r, default=str)} for i, r in enumerate(rows)]
    ds = ray.data.from_items(items, override_num_blocks=_num_blocks(len(items), 256))
    ds = ds.map_batches(_reject_rows, fn_kwargs={"specs_json": specs_json}, batch_format="numpy", batch_size=256)
    verdicts: dict[int, tuple[int, str, dict]] = {}
    rows = list(rows)
    task_seconds = np.zeros(len(segment))
    for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
        task_seconds += batch["seconds"].sum(axis=0)
        for i, k, why, extra, changed in zip(batch["idx"], batch["step"], batch["reason"], batch["extra"],
                                             batch["changed"]):
            if k >= 0:
                verdicts[int(i)] = (int(k), str(why), json.loads(extra))
            if changed != "{}":
                rows[int(i)] = {**rows[int(i)], **json.loads(changed)}
    kept, dropped, funnel = list(rows), [], []
    positions = list(range(len(rows)))
    for k, (kind, name, part) in enumerate(segment):
        reasons = []
        for i in positions:
            v = verdicts.get(i)
            reasons.append(_Reason(v[1], v[2]) if v and v[0] == k else None)
        survivors = [i for i, r in zip(positions, reasons) if r is None]
        rows_in = len(kept)
        kept, lost = apply_one_filter(kept, part, reasons)
        positions = survivors
        dropped += lost
        # seconds here are task seconds summed over the workers' batches (steps share one Ray task)
        funnel.append(funnel_entry(name, "filter", rows_in, len(lost), float(task_seconds[k])))
    return kept, dropped, funnel


class _Reason(str):
    def __new__(cls, text: str, fields: dict):
        obj = super().__new__(cls, text)
        obj.fields = fields
        return obj


def run_steps_ray(rows: list[dict], steps: list[tuple[str, str, Any]]) -> tuple[list[dict], list[dict], list]:
    """Like `pipeline.run_steps_local`, with per-row filters on Ray Data and MinHash dedup as a band shuffle."""
    start_ray()
    kept, dropped, funnel = list(rows), [], []
    segment: list = []

    def flush():
        nonlocal kept
        if segment:
            kept, lost, entries = _row_segment_on_ray(kept, segment)
            dropped.extend(lost)
            funnel.extend(entries)
            segment.clear()

    for kind, name, part in steps:
        if kind == "filter" and not getattr(part, "whole_dataset", False):
            segment.append((kind, name, part))
            continue
        flush()
        if getattr(part, "cfg", None) is not None and hasattr(part.cfg, "minhash_pairs"):
            part.cfg.minhash_pairs = ray_minhash_pairs  # the dedup filter's MinHash banding runs as a Ray shuffle
        kept, lost, entries = run_steps_local(kept, [(kind, name, part)])
        dropped += lost
        funnel += entries
    flush()
    return kept, dropped, funnel


# -- MinHash LSH as a shuffle by band ---------------------------------------------------------------

def _sketch(batch: dict, cfg: MinHashConfig) -> dict:
    sig, keys = MinHasher(cfg).sketch([str(t) for t in batch["text"]])
    return {"idx": batch["idx"].astype(np.int64), "sig": sig, "keys": keys}


def _explode_bands(batch: dict) -> dict:
    keys = batch["keys"]
    n, bands = keys.shape
    return {"band": np.tile(np.arange(bands, dtype=np.int32), n), "key": keys.reshape(-1),
            "idx": np.repeat(batch["idx"], bands)}


def _bucket_pairs(group: dict) -> dict:
    """One (band, key) bucket → the same pairs `minhash.bucket_pairs` gives it: star to the first + chain."""
    ids = np.sort(group["idx"].astype(np.int64))
    if len(ids) < 2:
        return {"a": np.empty(0, dtype=np.int64), "b": np.empty(0, dtype=np.int64)}
    star_a, star_b = np.full(len(ids) - 1, ids[0]), ids[1:]
    chain_a, chain_b = ids[1:-1], ids[2:]
    return {"a": np.concatenate([star_a, chain_a]), "b": np.concatenate([star_b, chain_b])}


def ray_minhash_pairs(texts: list[str], cfg: MinHashConfig) -> tuple[np.ndarray, np.ndarray]:
    """Verified near-duplicate pairs (i < j) and similarities, computed on Ray Data."""
    import ray.data
    start_ray()
    if len(texts) < 2:
        return np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.float32)
    blocks = _num_blocks(len(texts), cfg.chunk_size)
    ds = ray.data.from_items([{"idx": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=blocks)
    sketched = ds.map_batches(_sketch, fn_kwargs={"cfg": cfg}, batch_format="numpy",
                              batch_size=cfg.chunk_size).materialize()
    buckets = sketched.map_batches(_explode_bands, batch_format="numpy")
    pairs_ds = buckets.groupby(["band", "key"], num_partitions=blocks).map_groups(_bucket_pairs, batch_format="numpy")
    found = [np.stack([b["a"], b["b"]], axis=1) for b in pairs_ds.iter_batches(batch_format="numpy", batch_size=None)
             if len(b["a"])]
    pairs = np.unique(np.concatenate(found), axis=0) if found else np.empty((0, 2), dtype=np.int64)
    sig = np.empty((len(texts), cfg.num_perm), dtype=np.uint32)
    for b in sketched.select_columns(["idx", "sig"]).iter_batches(batch_format="numpy", batch_size=None):
        sig[b["idx"]] = b["sig"]
    return verify_pairs(sig, pairs, cfg.threshold)


def dedup_rows_ray(rows, cfg, reference=()):
    """`dedup.dedup_rows` with MinHash banding on Ray (exact and semantic run on the driver)."""
    from dataclasses import replace

    from ..dedup import dedup_rows
    start_ray()
    return dedup_rows(rows, replace(cfg, minhash_pairs=ray_minhash_pairs), reference)
