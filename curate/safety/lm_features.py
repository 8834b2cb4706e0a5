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
from dataclasses import dataclass
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
                dtype: str = "float32", shared_prefix: bool = True):
    """float32 array (len(texts), len(pools) * len(layers) * hidden): for each pool, each layer's states.

    Layer i is the output of decoder block i (0 = token embeddings). Texts run shortest first so batches
    pad little; rows come back in input order. `dtype="bfloat16"` runs the model in bfloat16 (faster on
    CPUs with AVX512-BF16): the heads were fitted on float32 features, so use it only where its verdict
    differences were measured (docs/benchmarks.md, curate section).

    `shared_prefix=True` (default) runs the chat template's fixed opening (system turn and user header,
    two thirds of an average request's tokens) once and reuses its states and KV cache for every row
    whose tokens start with exactly those ids (see `_prefix_rows`); the other rows, and every row of a
    model without a chat template, take the whole-chat path that `shared_prefix=False` uses for all.
    Both compute the same thing; they differ by float rounding (measured in docs/benchmarks.md,
    "Shared template prefix").
    """
    import numpy as np
    unknown = set(pools) - {"last", "mean"}
    if unknown:
        raise ValueError(f"unknown pooling {sorted(unknown)}; use 'last' and/or 'mean'")
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    model_path = resolve_model(model)
    tokenizer, lm = _load(model_path, max(layers) + 1, dtype)  # +1: the last state returned is normed
    if max(layers) >= len(lm.layers) or min(layers) < 0:
        raise ValueError(f"layers {list(layers)} outside 0..{len(lm.layers)} for model {model!r}")
    budget = _budget(tokenizer, max_tokens)
    chats = [_templated(tokenizer, str(t), budget) for t in texts]
    width = len(pools) * len(layers) * lm.config.hidden_size
    out = np.zeros((len(texts), width), dtype=np.float32)
    rest: dict[int, list[int]] = {}
    if shared_prefix:
        prefix = _prefix_state(model_path, max(layers) + 1, dtype)
        if prefix is not None:
            rest = _prefix_rows(tokenizer, chats, prefix.ids, max_tokens)
            _prefix_features(lm, prefix, rest, layers, pools, batch_size, tokenizer.pad_token_id, out)
    whole = [i for i in range(len(texts)) if i not in rest]
    if whole:
        out[whole] = _whole_features(tokenizer, lm, [chats[i] for i in whole], layers, pools, max_tokens,
                                     batch_size, width)
    return out


def _whole_features(tokenizer, lm, chats: list[str], layers, pools, max_tokens: int, batch_size: int, width: int):
    """Features of whole chats, left padded so the last position is every row's template end."""
    import numpy as np
    import torch
    order = np.argsort([len(c) for c in chats], kind="stable")
    out = np.zeros((len(chats), width), dtype=np.float32)
    for start in range(0, len(chats), batch_size):
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


@dataclass(frozen=True)
class _Prefix:
    """The chat template's opening (system turn and user header) run once: its token ids, each layer's
    key/value cache (batch 1) and each hidden state's sum over the prefix positions (float32, on the
    model's device)."""

    ids: tuple[int, ...]
    kv: tuple
    state_sums: tuple


_REQUEST_MARK = "\ue000REQUEST\ue000"  # a private-use character no template rewrites


def _prefix_ids(tokenizer) -> tuple[int, ...] | None:
    """The token ids of the chat template's opening (everything before the request), or None where there is
    no chat template or the opening cannot be told from the request (the mark is not found exactly once)."""
    rendered = _wrap(tokenizer, _REQUEST_MARK)
    if not getattr(tokenizer, "chat_template", None) or rendered.count(_REQUEST_MARK) != 1:
        return None
    return tuple(tokenizer(rendered[:rendered.index(_REQUEST_MARK)])["input_ids"]) or None


@functools.lru_cache(maxsize=2)
def _prefix_state(model_path: str, n_layers: int, dtype: str = "float32") -> _Prefix | None:
    """The template opening run once through the (truncated) model; None as for `_prefix_ids`."""
    import torch
    tokenizer, lm = _load(model_path, n_layers, dtype)
    ids = _prefix_ids(tokenizer)
    if ids is None:
        return None
    with torch.no_grad():
        result = lm(input_ids=torch.tensor([ids], device=lm.device), output_hidden_states=True, use_cache=True)
    kv = tuple((layer.keys, layer.values) for layer in result.past_key_values.layers[:len(lm.layers)])
    sums = tuple(h[0].float().sum(0) for h in result.hidden_states)
    return _Prefix(ids, kv, sums)


def prefix_path_rows(texts: Sequence[str], *, model: str = EMBEDDED_MODEL, max_tokens: int = MAX_TOKENS) -> list[bool]:
    """For each request, whether `lm_features(shared_prefix=True)` takes the shared-prefix path for it (False:
    the whole-chat path; every row where the model has no chat template)."""
    tokenizer = _tokenizer(resolve_model(model))
    ids = _prefix_ids(tokenizer)
    if ids is None:
        return [False] * len(texts)
    chats = [_templated(tokenizer, str(t), _budget(tokenizer, max_tokens)) for t in texts]
    rest = _prefix_rows(tokenizer, chats, ids, max_tokens)
    return [i in rest for i in range(len(texts))]


def _prefix_rows(tokenizer, chats: list[str], prefix_ids: tuple[int, ...], max_tokens: int) -> dict[int, list[int]]:
    """Row index -> its token ids after the prefix, for the rows whose tokenized chat (as the whole-chat
    path tokenizes it, truncation included) is exactly the prefix's ids followed by at least one more
    token. Rows left out (a merge across the seam, e.g. a request opening with a newline; a tokenizer
    that adds tokens in front) take the whole-chat path."""
    n = len(prefix_ids)
    out = {}
    for i, ids in enumerate(tokenizer(chats, truncation=True, max_length=max_tokens)["input_ids"]):
        if len(ids) > n and tuple(ids[:n]) == prefix_ids:
            out[i] = list(ids[n:])
    return out


def _prefix_features(lm, prefix: _Prefix, rest: dict[int, list[int]], layers, pools, batch_size: int,
                     pad_id: int, out) -> None:
    """Fill out[i] for each row in `rest` by running only its tokens after the prefix, right padded, on a
    copy of the prefix's KV cache, at positions len(prefix) onwards. "last" is the last real token's
    state; "mean" is (prefix sum + the row's real-token sum) / (prefix length + real length): the mean
    over all the chat's positions, as the whole-chat path takes it."""
    import torch
    from transformers import DynamicCache
    n = len(prefix.ids)
    rows = sorted(rest, key=lambda i: len(rest[i]))
    for start in range(0, len(rows), batch_size):
        idx = rows[start:start + batch_size]
        lengths = torch.tensor([len(rest[i]) for i in idx], device=lm.device)
        width = int(lengths.max())
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long, device=lm.device)
        for r, i in enumerate(idx):
            ids[r, :len(rest[i])] = torch.tensor(rest[i], device=lm.device)
        real = (torch.arange(width, device=lm.device)[None, :] < lengths[:, None]).long()
        mask = torch.cat([torch.ones(len(idx), n, dtype=torch.long, device=lm.device), real], dim=1)
        positions = (torch.arange(width, device=lm.device) + n)[None, :].expand(len(idx), -1)
        cache = DynamicCache([(k.expand(len(idx), -1, -1, -1), v.expand(len(idx), -1, -1, -1))
                              for k, v in prefix.kv])  # update() concatenates: the prefix's tensors stay as they are
        with torch.no_grad():
            hidden = lm(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                        use_cache=True, output_hidden_states=True).hidden_states
        keep = real.unsqueeze(-1).float()
        count = (lengths + n).float().unsqueeze(-1)
        batch = torch.arange(len(idx), device=lm.device)
        parts = []
        for pool in pools:
            for layer in layers:
                h = hidden[layer].float()
                parts.append(h[batch, lengths - 1] if pool == "last"
                             else (prefix.state_sums[layer] + (h * keep).sum(1)) / count)
        out[idx] = torch.cat(parts, dim=1).cpu().numpy()
