"""Row schemas shared by every stage: prompts, candidates, pairs.

Rows are plain dicts (they go straight into Arrow/Parquet and TRL); the helpers here build and
validate them so every stage agrees on column names.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Sequence

Messages = list[dict[str, str]]

PROMPT_COLUMNS = ("prompt_id", "prompt", "instruction_id_list", "kwargs", "category", "source")
CANDIDATE_COLUMNS = ("prompt_id", "candidate_id", "response", "model", "gen_params", "finish_reason",
                     "prompt_tokens", "completion_tokens", "scores", "verdicts")
PAIR_COLUMNS = ("prompt", "chosen", "rejected", "prompt_id", "chosen_score", "rejected_score",
                "margin", "strategy", "chosen_id", "rejected_id")


def normalise_text(text: str) -> str:
    """Casefold, NFKC and collapse whitespace: the form used for ids and exact dedup."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", text).strip()


def stable_hash(obj: Any, length: int = 16) -> str:
    """Short sha256 of a JSON-serialisable object, stable across runs and machines."""
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:length]


def prompt_id(messages: Messages | str) -> str:
    """Stable id of a prompt: hash of its normalised message texts and roles."""
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    return "p-" + stable_hash([[m["role"], normalise_text(m["content"])] for m in messages])


def candidate_id(pid: str, index: int, model: str, seed: int | None) -> str:
    """Stable id of the `index`-th sample for a prompt from a model and seed."""
    return "c-" + stable_hash([pid, index, model, seed])


def as_messages(prompt: str | Sequence[dict[str, str]]) -> Messages:
    """Accept a plain string or chat messages; return chat messages."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in prompt]


def user_text(messages: Messages) -> str:
    """The last user turn's text (what instruction checks and classifiers look at)."""
    for m in reversed(messages):
        if m["role"] == "user":
            return m["content"]
    return messages[-1]["content"] if messages else ""


def prompt_text(prompt: str | Sequence[dict] | None, default: str | None = "") -> str | None:
    """What checks and classifiers read of a prompt: a string as it is, chat messages' last user turn.

    `default` when there is no prompt (None or no messages). Messages without role/content raise
    KeyError/TypeError: a caller that quarantines unreadable rows catches them.
    """
    if isinstance(prompt, str):
        return prompt
    if prompt is None or len(prompt) == 0:  # len, not truthiness: Parquet hands lists back as arrays
        return default
    return user_text(as_messages(prompt))


def make_prompt_row(prompt: str | Messages, *, instruction_id_list: Sequence[str] | None = None,
                    kwargs: Sequence[dict] | None = None, category: str = "", source: str = "",
                    **extra: Any) -> dict:
    """Build a prompt row with its stable id."""
    msgs = as_messages(prompt)
    row = {"prompt_id": prompt_id(msgs), "prompt": msgs,
           "instruction_id_list": list(instruction_id_list or []),
           "kwargs": [clean_kwargs(k) for k in (kwargs or [{} for _ in instruction_id_list or []])],
           "category": category, "source": source}
    row.update(extra)
    return row


def clean_kwargs(kwargs: dict | None) -> dict:
    """Drop None-valued keys (Arrow fills absent struct fields with None on read)."""
    return {k: v for k, v in (kwargs or {}).items() if v is not None}


def make_pair_row(prompt: Messages, chosen: dict, rejected: dict, *, strategy: str,
                  score_name: str = "score") -> dict:
    """A DPO pair in TRL conversational form from two candidate rows (with a `score`)."""
    return {
        "prompt": prompt,
        "chosen": [{"role": "assistant", "content": chosen["response"]}],
        "rejected": [{"role": "assistant", "content": rejected["response"]}],
        "prompt_id": chosen["prompt_id"],
        "chosen_score": float(chosen[score_name]), "rejected_score": float(rejected[score_name]),
        "margin": float(chosen[score_name]) - float(rejected[score_name]),
        "strategy": strategy,
        "chosen_id": chosen["candidate_id"], "rejected_id": rejected["candidate_id"],
    }


@dataclass
class EvalItem:
    """One prompt of an eval set: a stable id within its task or set, the chat prompt, task-specific fields,
    and the subset it belongs to (eval tasks score them; decontamination keeps training data away from them)."""

    item_id: str
    prompt: Messages
    info: dict[str, Any] = field(default_factory=dict)
    subset: str = ""

    @property
    def prompt_id(self) -> str:
        """Stable id of the item's prompt (records.prompt_id)."""
        return prompt_id(self.prompt)
