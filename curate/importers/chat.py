"""Chat transcripts: ShareGPT (`conversations: [{from, value}]`) and OpenAI (`messages: [{role, content}]`,
plus OpenAI's preference fine-tuning rows with `preferred_output` / `non_preferred_output`)."""
from __future__ import annotations

from typing import Any

from ..core.records import Messages
from .base import Importer, Record, RowSkip, every_reply, split_last_reply

# ShareGPT dumps name the speakers in several ways; each maps to one chat role.
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                  "chatgpt": "assistant", "bard": "assistant", "bing": "assistant", "model": "assistant",
                  "system": "system"}
OPENAI_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
TURN_MODES = ("last", "all")


class _ChatImporter(Importer):
    """Shared: `turns` "last" (one SFT row per dialogue: its final reply, earlier turns as context) or "all"
    (one SFT row per assistant reply, each with the turns before it as context)."""

    def __init__(self, turns: str = "last", **options: Any):
        if turns not in TURN_MODES:
            raise ValueError(f"turns must be one of {', '.join(TURN_MODES)}, not {turns!r}")
        super().__init__(turns=turns, **options)
        self.turns = turns

    def dialogue_records(self, messages: Messages, where: str, meta: dict) -> list[Record]:
        if self.turns == "all":
            return [Record(prompt=ctx, completion=reply, meta={**meta, "turn": len(ctx)})
                    for ctx, reply in every_reply(messages, where)]
        context, reply = split_last_reply(messages, where)
        if not any(m["role"] == "user" for m in context):
            raise RowSkip("has no user turn", where)
        return [Record(prompt=context, completion=reply, meta=meta)]


class ShareGPTImporter(_ChatImporter):
    """ShareGPT / Vicuna-style conversations; a top-level `system` string becomes the first turn."""

    name = "sharegpt"
    description = "conversations: [{from: human|gpt|system, value}] (ShareGPT, Vicuna, SlimOrca)"

    @classmethod
    def signature(cls, row: dict) -> bool:
        return isinstance(row.get("conversations"), list)

    def convert(self, row: dict) -> list[Record]:
        turns = row.get("conversations")
        if not isinstance(turns, list) or not turns:
            raise RowSkip("must be a non-empty list of {from, value}", "conversations")
        messages = []
        system = row.get("system")
        if isinstance(system, str) and system.strip():
            messages.append({"role": "system", "content": system})
        for i, turn in enumerate(turns):
            where = f"conversations[{i}]"
            if not isinstance(turn, dict):
                raise RowSkip(f"is {type(turn).__name__}, expected {{from, value}}", where)
            speaker = turn.get("from")
            role = SHAREGPT_ROLES.get(str(speaker).lower()) if speaker is not None else None
            if role is None:
                raise RowSkip(f"unknown speaker {speaker!r}; known: {', '.join(sorted(SHAREGPT_ROLES))}",
                              f"{where}.from")
            value = turn.get("value")
            if not isinstance(value, str) or not value.strip():
                raise RowSkip("is missing or empty" if not isinstance(value, str) or not value else "is empty",
                              f"{where}.value")
            messages.append({"role": role, "content": value})
        meta = {"id": row["id"]} if isinstance(row.get("id"), (str, int)) else {}
        return self.dialogue_records(messages, "conversations", meta)


class OpenAIImporter(_ChatImporter):
    """OpenAI chat fine-tuning rows; preference rows (`input.messages` + preferred/non-preferred) become pairs."""

    name = "openai"
    description = "messages: [{role, content}] (OpenAI fine-tuning); preference rows become pairs"

    @classmethod
    def signature(cls, row: dict) -> bool:
        return isinstance(row.get("messages"), list) or "preferred_output" in row

    def convert(self, row: dict) -> list[Record]:
        if "preferred_output" in row or "non_preferred_output" in row:
            return [self._preference(row)]
        messages = openai_messages(row.get("messages"), "messages")
        return self.dialogue_records(messages, "messages", {})

    def _preference(self, row: dict) -> Record:
        source = row.get("input")
        if not isinstance(source, dict):
            raise RowSkip("must be an object with messages", "input")
        prompt = openai_messages(source.get("messages"), "input.messages")
        if not any(m["role"] == "user" for m in prompt):
            raise RowSkip("has no user turn", "input.messages")
        chosen = openai_messages(row.get("preferred_output"), "preferred_output")
        rejected = openai_messages(row.get("non_preferred_output"), "non_preferred_output")
        for name, msgs in (("preferred_output", chosen), ("non_preferred_output", rejected)):
            if msgs[-1]["role"] != "assistant":
                raise RowSkip("must end with an assistant message", name)
        if chosen == rejected:
            raise RowSkip("preferred and non-preferred answers are identical", "preferred_output")
        return Record(prompt=prompt, completion=chosen, chosen=chosen, rejected=rejected)


def openai_messages(value: Any, where: str) -> Messages:
    """OpenAI messages as {role, content} with text content; list-of-parts content is joined (text parts only)."""
    if not isinstance(value, list) or not value:
        raise RowSkip("must be a non-empty list of {role, content}", where)
    out = []
    for i, m in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(m, dict):
            raise RowSkip(f"is {type(m).__name__}, expected {{role, content}}", at)
        role = OPENAI_ROLES.get(str(m.get("role")))
        if role is None:
            raise RowSkip(f"role {m.get('role')!r} is not supported (user, assistant, system, developer); "
                          "tool and function turns cannot be trained as text", f"{at}.role")
        out.append({"role": role, "content": _content_text(m.get("content"), f"{at}.content")})
    return out


def _content_text(content: Any, where: str) -> str:
    if isinstance(content, list):
        parts = []
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise RowSkip(f"part is {kind!r}; only text parts can be imported", f"{where}[{j}]")
            parts.append(part["text"])
        content = "".join(parts)
    if not isinstance(content, str):
        raise RowSkip("is missing" if content is None else f"is {type(content).__name__}, expected text", where)
    if not content.strip():
        raise RowSkip("is empty", where)
    return content
