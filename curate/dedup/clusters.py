"""From duplicate pairs to one kept row per cluster.

Clusters are the connected components of the verified duplicate pairs (scipy's sparse graph routine).
The kept row of a cluster is the one with the best priority: reference rows (other datasets) first, then
the keep rule: `first` = earliest in the input, `score` = highest score (ties: earliest). Every other
member is dropped with `duplicate_of` = the kept member.
"""
from __future__ import annotations

import numpy as np


def duplicate_of(n: int, pairs: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """For each of `n` nodes, the index of the node it duplicates, or -1 if it is kept.

    `priority`: lower is better (the cluster keeps its lowest-priority member; ties go to the lower index).
    """
    result = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(pairs) == 0:
        return result
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    pairs = np.asarray(pairs, dtype=np.int64)
    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    order = np.lexsort((np.arange(n), priority, label))   # by cluster, then priority, then index
    first_of_cluster = np.concatenate([[True], label[order][1:] != label[order][:-1]])
    keeper = order[first_of_cluster]                       # one per cluster, indexed by label order
    cluster_rank = np.cumsum(first_of_cluster) - 1
    keeper_of = np.empty(n, dtype=np.int64)
    keeper_of[order] = keeper[cluster_rank]
    dup = keeper_of != np.arange(n)
    result[dup] = keeper_of[dup]
    return result


def priorities(n_reference: int, n_rows: int, scores: list[float | None] | None = None) -> np.ndarray:
    """Priority vector over [reference rows..., rows...]: references first, then highest score / earliest."""
    ref = np.full(n_reference, -np.inf)
    if scores is None:
        own = np.arange(n_rows, dtype=np.float64)  # earliest first
    else:
        own = np.array([np.inf if s is None else -float(s) for s in scores], dtype=np.float64)
    return np.concatenate([ref, own])
