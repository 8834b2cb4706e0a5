"""Embedding features for the safety heads: the shared all-MiniLM-L6-v2 `embed`, batched by length."""
from __future__ import annotations

from typing import Sequence


def encode(texts: Sequence[str], *, max_tokens: int, model_path: str | None = None):
    """Unit-length embeddings of `texts` cut to `max_tokens` word pieces, shape (len(texts), 384).

    Texts are embedded shortest first so each batch pads little (long answers next to one-liners would
    otherwise cost a full window each); rows come back in input order.
    """
    import numpy as np

    from ..core.embeddings import embed
    order = np.argsort([len(t) for t in texts], kind="stable")
    vectors = embed([texts[i] for i in order], batch_size=32, model_path=model_path, max_tokens=max_tokens)
    out = np.empty_like(vectors)
    out[order] = vectors
    return out
