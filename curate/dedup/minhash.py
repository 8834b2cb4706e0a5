"""Near-duplicate detection with MinHash signatures and LSH banding, vectorised with numpy.

Why hand-written rather than datasketch: datasketch builds one `MinHash` object per document and hashes
its shingles per document in Python, then inserts into `MinHashLSH` one key at a time. Here a whole chunk of
documents is shingled as one code-point array (rolling polynomial hash), every permutation is one matrix
operation over all shingles of the chunk, per-document minima come from `np.minimum.reduceat`, and LSH
buckets are found by sorting band keys, not by a Python dict. benchmarks/bench_minhash.py measures the gap
against datasketch on the same data (docs/benchmarks.md, "MinHash dedup").

Permutations are multiply-shift hashes (`a*x mod 2^64`, `a` odd, keep the top 32 bits), a universal
family that numpy evaluates without a modulo; the (permutations x shingles) layout keeps each block in
cache. Candidate pairs are verified by the fraction of agreeing signature entries (the MinHash estimate of
Jaccard similarity), so LSH false positives never reach the output.
"""
from __future__ import annotations

import re
import unicodedata
import zlib
from typing import Iterable, Iterator

import numpy as np

from .settings import MinHashConfig

_NON_WORD = re.compile(r"[\W_]+")
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def normalise_for_shingles(text: str) -> str:
    """Casefold, NFKC, punctuation to spaces, collapse whitespace: casing/punctuation edits do not count."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads polynomial hashes over all 64 bits (in place on a uint64 array)."""
    x ^= x >> np.uint64(30)
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return x


def _roll(units: np.ndarray, lengths: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every run of `n` consecutive units inside each document, plus per-document offsets.

    A document shorter than `n` units yields one shingle over all of it (so it still has a signature).
    """
    units = units.astype(np.uint64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    padded = np.concatenate([units, np.zeros(n, dtype=np.uint64)])
    total = len(units)
    h = np.zeros(total, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):  # h[i] = sum_j units[i+j] * P^(n-1-j), wrapping mod 2^64
            h *= np.uint64(0x100000001B3)
            h += padded[j:j + total] + np.uint64(1)
    counts = np.maximum(lengths - n + 1, 1).astype(np.int64)
    # position of the k-th shingle of each document; short docs take their first (partial) window
    first = np.repeat(starts, counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    picked = h[first + within]
    short = np.repeat(lengths < n, counts)
    if short.any():  # partial windows ran into the next document: rehash them from their own units
        for d in np.nonzero(lengths < n)[0]:
            value = np.uint64(0)
            with np.errstate(over="ignore"):
                for u in units[starts[d]:starts[d] + lengths[d]]:
                    value = value * np.uint64(0x100000001B3) + u + np.uint64(1)
            picked[np.cumsum(counts)[d] - 1] = value
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    with np.errstate(over="ignore"):
        return _mix(picked), offsets


def shingle_hashes(texts: list[str], cfg: MinHashConfig) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every shingle of every text, concatenated, and offsets (len(texts)+1)."""
    norm = [normalise_for_shingles(t) for t in texts]
    if cfg.shingle == "char":
        blob = "".join(norm).encode("utf-32-le")
        units = np.frombuffer(blob, dtype=np.uint32)
        lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
    elif cfg.shingle == "word":
        words = [t.split() for t in norm]
        units = np.fromiter((zlib.crc32(w.encode()) for ws in words for w in ws), dtype=np.uint32)
        lengths = np.fromiter((len(ws) for ws in words), dtype=np.int64, count=len(words))
    else:
        raise ValueError(f"shingle must be 'char' or 'word', got {cfg.shingle!r}")
    return _roll(units, lengths, cfg.ngram)


class MinHasher:
    """Computes MinHash signatures and LSH band keys for chunks of documents (deterministic in `seed`)."""

    SHINGLE_BLOCK = 8192  # shingles per matrix op: a (num_perm x 8192) uint64 buffer stays cache-sized

    def __init__(self, cfg: MinHashConfig):
        self.cfg = cfg
        rng = np.random.default_rng(cfg.seed)
        self.a = rng.integers(1, 2**63, size=cfg.num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self.bands, self.rows = cfg.banding()
        self.band_mult = rng.integers(1, 2**63, size=self.rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)

    def signatures(self, texts: list[str]) -> np.ndarray:
        """uint32 signatures, shape (len(texts), num_perm).

        Permutation k of shingle hash x is `a_k * x mod 2^64` (multiply-shift with odd a_k, a bijection);
        the signature keeps the top 32 bits of the minimum. Shifting commutes with the minimum, so the
        shift runs once per (document, permutation) instead of once per (shingle, permutation).
        """
        hashes, offsets = shingle_hashes(texts, self.cfg)
        out = np.empty((len(texts), self.cfg.num_perm), dtype=np.uint32)
        buf = np.empty((self.cfg.num_perm, max(self.SHINGLE_BLOCK, 1)), dtype=np.uint64)
        start = 0
        with np.errstate(over="ignore"):
            while start < len(texts):
                # as many whole documents as fit the buffer (at least one, growing it if a doc is huge)
                stop = int(np.searchsorted(offsets, offsets[start] + self.SHINGLE_BLOCK, side="right")) - 1
                stop = min(max(stop, start + 1), len(texts))
                s0, s1 = offsets[start], offsets[stop]
                if s1 - s0 > buf.shape[1]:
                    buf = np.empty((self.cfg.num_perm, s1 - s0), dtype=np.uint64)
                block = buf[:, :s1 - s0]
                np.multiply(self.a[:, None], hashes[None, s0:s1], out=block)
                minima = np.minimum.reduceat(block, offsets[start:stop] - s0, axis=1)
                out[start:stop] = (minima >> np.uint64(32)).T
                start = stop
        return out

    def band_keys(self, sig: np.ndarray) -> np.ndarray:
        """uint64 key per (document, band): equal keys put two documents in the same LSH bucket."""
        keys = np.zeros((len(sig), self.bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for band in range(self.bands):
                block = sig[:, band * self.rows:(band + 1) * self.rows].astype(np.uint64)
                keys[:, band] = _mix((block * self.band_mult[None, :]).sum(axis=1, dtype=np.uint64))
        return keys

    def sketch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(signatures, band keys) of one chunk."""
        sig = self.signatures(texts)
        return sig, self.band_keys(sig)


def chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    """Lists of up to `size` texts, streaming."""
    batch: list[str] = []
    for t in texts:
        batch.append(t)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def bucket_pairs(keys: np.ndarray, ids: np.ndarray | None = None) -> np.ndarray:
    """Candidate pairs (i < j) from one band's keys: each bucket member pairs with the bucket's first
    member and with its predecessor (a star plus a chain: linear in bucket size, unlike all pairs)."""
    ids = np.arange(len(keys), dtype=np.int64) if ids is None else ids.astype(np.int64)
    order = np.lexsort((ids, keys))
    k, i = keys[order], ids[order]
    if len(k) < 2:
        return np.empty((0, 2), dtype=np.int64)
    new_run = np.concatenate([[True], k[1:] != k[:-1]])
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(k)), 0))
    member = ~new_run
    star = np.stack([i[run_start[member]], i[member]], axis=1)
    chain_ok = member.copy()
    chain_ok[1:] &= ~new_run[:-1]  # predecessor is not the anchor (already paired by the star)
    prev = np.nonzero(chain_ok)[0]
    chain = np.stack([i[prev - 1], i[prev]], axis=1)
    return np.concatenate([star, chain])


def candidate_pairs(keys: np.ndarray) -> np.ndarray:
    """Unique candidate pairs (i < j) over all bands of a (documents x bands) key matrix."""
    found = [bucket_pairs(keys[:, band]) for band in range(keys.shape[1])]
    pairs = np.concatenate(found) if found else np.empty((0, 2), dtype=np.int64)
    return np.unique(pairs, axis=0) if len(pairs) else pairs


def verify_pairs(sig: np.ndarray, pairs: np.ndarray, threshold: float,
                 block: int = 1 << 16) -> tuple[np.ndarray, np.ndarray]:
    """Keep pairs whose estimated Jaccard (share of equal signature entries) is >= threshold."""
    sims = np.empty(len(pairs), dtype=np.float32)
    for s in range(0, len(pairs), block):
        p = pairs[s:s + block]
        sims[s:s + block] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
    keep = sims >= threshold
    return pairs[keep], sims[keep]


def near_duplicate_pairs(texts: Iterable[str], cfg: MinHashConfig = MinHashConfig(),
                         workers: int = 1) -> tuple[np.ndarray, np.ndarray, int]:
    """Stream texts in chunks; return (verified pairs (i, j), their similarity, number of texts).

    Memory is the signatures (num_perm x 4 bytes per text) plus band keys (bands x 8 bytes per text);
    the texts themselves are not kept. `workers` > 1 hashes chunks in a process pool.
    """
    hasher = MinHasher(cfg)
    sigs, keys = [], []
    for sig, key in _sketch_stream(hasher, chunks(texts, cfg.chunk_size), workers):
        sigs.append(sig)
        keys.append(key)
    if not sigs:
        return np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.float32), 0
    sig = np.concatenate(sigs)
    del sigs
    pairs = candidate_pairs(np.concatenate(keys))
    del keys
    verified, sims = verify_pairs(sig, pairs, cfg.threshold)
    return verified, sims, len(sig)


def _sketch_stream(hasher: MinHasher, batches: Iterable[list[str]], workers: int):
    if workers <= 1:
        for batch in batches:
            yield hasher.sketch(batch)
        return
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(hasher.cfg,)) as pool:
        yield from pool.imap(_worker_sketch, batches, chunksize=1)


_WORKER_HASHER: MinHasher | None = None


def _init_worker(cfg: MinHashConfig) -> None:
    global _WORKER_HASHER  # one hasher per worker process, built once
    _WORKER_HASHER = MinHasher(cfg)


def _worker_sketch(batch: list[str]):
    return _WORKER_HASHER.sketch(batch)
