"""Chat templating shared by the local backends, so vLLM and transformers see identical token ids."""
from __future__ import annotations

import zlib

from ..core.records import Messages


def render_prompt_ids(tokenizer, messages: Messages) -> list[int]:
    """Token ids of the chat-templated prompt, ending with the assistant turn's opening."""
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):  # BatchEncoding in newer transformers
            ids = ids["input_ids"]
        return list(ids)
    # Base models without a template: plain "role: text" lines.
    text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"
    return tokenizer(text)["input_ids"]


def request_seed(base_seed: int, messages: Messages) -> int:
    """Per-prompt seed from the run seed and the prompt text, so output is independent of batching/resume."""
    key = "\x1f".join(m["role"] + "\x1e" + m["content"] for m in messages)
    return (base_seed * 1_000_003 + zlib.crc32(key.encode("utf-8"))) % (2**31 - 1)


def context_limit(config) -> int | None:
    """The model's maximum sequence length from its config, if it states one."""
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return None
