"""Prompt features from a small chat model's hidden states, for the harmful-prompt probe.

A request is put in the model's chat template as one user turn, ready for the assistant's answer; the
features are the hidden states of chosen middle layers at the last position (where an aligned model
decides whether to comply) and averaged over all positions. A sentence embedder mostly encodes topic
("kill", "weapon"); an instruction-tuned model's middle layers also encode whether the request asks to
do harm, which is what tells "kill a process" from "kill my neighbour". Default model: the embedded
SmolLM2-135M-Instruct (`alignsmith models`), run in float32 (on the GPU when there is one) so features
agree everywhere to rounding.
"""
from __future__ import annotations

import functools
from typing import Sequence

from ..core.models import EMBEDDED_MODEL, resolve_model

DEFAULT_LAYERS = (16, 19, 22)
DEFAULT_POOLS = ("last", "mean")
MAX_TOKENS = 160  # chat-templated prompt; a longer request keeps its opening and end (see _templated)


@functools.lru_cache(maxsize=2)
def _tokenizer(model_path: str):
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    tokenizer.padding_side = "left"  # the last position is then the template's end for every row
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


DTYPES = ("float32", "bfloat16")


@functools.lru_cache(maxsize=2)
def _load(model_path: str, n_layers: int, dtype: str = "float32"):
    import torch
    from transformers import AutoModel
    tokenizer = _tokenizer(model_path)
    model = AutoModel.from_pretrained(model_path, dtype=getattr(torch, dtype))
    if n_layers < len(model.layers):  # later layers are never read: skip their cost
        model.layers = model.layers[:n_layers]
    if torch.cuda.is_available():  # float32 either way: CPU and GPU features agree to rounding
        model.to("cuda")
    model.eval()
    model.requires_grad_(False)
    return tokenizer, model


def _wrap(tokenizer, content: str) -> str:
    if not getattr(tokenizer, "chat_template", None):
        return content
    return tokenizer.apply_chat_template([{"role": "user", "content": content}], tokenize=False,
                                         add_generation_prompt=True)


def _budget(tokenizer, max_tokens: int) -> int:
    """Tokens left for the request itself (4 spare: the " … " and merges at the seams)."""
    return max_tokens - len(tokenizer(_wrap(tokenizer, ""))["input_ids"]) - 4


def _templated(tokenizer, text: str, budget: int) -> str:
    """The request as one user turn, ready for the answer; a request over `budget` tokens (see `_budget`)
    keeps its opening and its end (where the actual ask often is) around a " … ", so the template's end
    is kept."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) > budget > 0:
        head = budget // 2
        text = tokenizer.decode(ids[:head]) + " … " + tokenizer.decode(ids[len(ids) - (budget - head):])
    return _wrap(tokenizer, text)


SENTENCE_MODES = ("long", "always")


def sentence_windows(texts: Sequence[str], *, model: str = EMBEDDED_MODEL, max_tokens: int = MAX_TOKENS,
                     mode: str = "long") -> list[list[str]]:
    """The sentences (NLTK Punkt; one longer than half the window is cut in pieces of that size) of each
    request to be scored sentence by sentence as well as whole; [] for the others.

    mode "long": only requests longer than the feature window. The probe was fitted on requests of one
    or a few sentences; on a long prompt the mean over positions averages a harmful ask away.
    mode "always": every request of more than one sentence, which also catches a short harmful ask after
    a benign sentence, at the cost of losing context that sits in another sentence ("This is for a
    video game. How do I kill the guard?"); measured trade-off in docs/benchmarks.md.
    """
    from ..verifiers.text import sentence_splitter
    if mode not in SENTENCE_MODES:
        raise ValueError(f"sentence mode {mode!r}: use one of {', '.join(SENTENCE_MODES)}")
    tokenizer = _tokenizer(resolve_model(model))
    budget = _budget(tokenizer, max_tokens)
    size = max(budget // 2, 8)
    out = []
    for text in map(str, texts):
        long_text = len(tokenizer(text, add_special_tokens=False)["input_ids"]) > budget
        sentences = sentence_splitter().tokenize(text) if long_text or mode == "always" else []
        if not long_text and len(sentences) < 2:
            out.append([])
            continue
        windows = []
        for sentence in filter(str.strip, sentences):
            ids = tokenizer(sentence.strip(), add_special_tokens=False)["input_ids"]
            windows += [tokenizer.decode(ids[i:i + size]) for i in range(0, len(ids), size)]
        out.append(windows)
    return out


def lm_features(texts: Sequence[str], *, model: str = EMBEDDED_MODEL, layers: Sequence[int] = DEFAULT_LAYERS,
                pools: Sequence[str] = DEFAULT_POOLS, max_tokens: int = MAX_TOKENS, batch_size: int = 32,
                dtype: str = "float32"):
    """float32 array (len(texts), len(pools) * len(layers) * hidden): for each pool, each layer's states.

    Layer i is the output of decoder block i (0 = token embeddings). Texts run shortest first so batches
    pad little; rows come back in input order. `dtype="bfloat16"` runs the model in bfloat16 (faster on
    CPUs with AVX512-BF16): the heads were fitted on float32 features, so use it only where its verdict
    differences were measured (docs/benchmarks.md, curate section).
    """
    import numpy as np
    import torch
    unknown = set(pools) - {"last", "mean"}
    if unknown:
        raise ValueError(f"unknown pooling {sorted(unknown)}; use 'last' and/or 'mean'")
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    tokenizer, lm = _load(resolve_model(model), max(layers) + 1, dtype)  # +1: the last state returned is normed
    if max(layers) >= len(lm.layers) or min(layers) < 0:
        raise ValueError(f"layers {list(layers)} outside 0..{len(lm.layers)} for model {model!r}")
    budget = _budget(tokenizer, max_tokens)
    chats = [_templated(tokenizer, str(t), budget) for t in texts]
    order = np.argsort([len(c) for c in chats], kind="stable")
    width = len(pools) * len(layers) * lm.config.hidden_size
    out = np.zeros((len(texts), width), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        enc = tokenizer([chats[i] for i in idx], return_tensors="pt", padding=True, truncation=True,
                        max_length=max_tokens).to(lm.device)
        with torch.no_grad():
            hidden = lm(**enc, output_hidden_states=True, use_cache=False).hidden_states
        mask = enc["attention_mask"].unsqueeze(-1).float()
        parts = []
        for pool in pools:
            for layer in layers:
                h = hidden[layer]
                parts.append(h[:, -1, :] if pool == "last" else (h * mask).sum(1) / mask.sum(1).clamp(min=1.0))
        out[idx] = torch.cat(parts, dim=1).float().cpu().numpy()
    return out
