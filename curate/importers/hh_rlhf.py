"""Anthropic HH-RLHF: `chosen` and `rejected` are whole dialogues in "\\n\\nHuman: … \\n\\nAssistant: …" form.

The two dialogues share every turn but the last Assistant reply; the shared turns are the prompt (earlier
turns kept as context), the two final replies the preference. The chosen dialogue is also an SFT row.
"""
from __future__ import annotations

import re

from ..core.records import Messages
from .base import Importer, Record, RowSkip, require_text

# A speaker marker: a blank line, the speaker and a colon. Turn text may itself contain single newlines.
_MARKER = re.compile(r"\n\n(Human|Assistant):[ \t]?")
_ROLES = {"Human": "user", "Assistant": "assistant"}


def parse_dialogue(text: str, field: str) -> Messages:
    """The turns of one HH-RLHF dialogue as chat messages; RowSkip when it does not parse."""
    pieces = _MARKER.split(text)
    if pieces[0].strip():
        raise RowSkip("text before the first '\\n\\nHuman:' marker", field)
    if len(pieces) < 3:
        raise RowSkip("no '\\n\\nHuman:' / '\\n\\nAssistant:' turns", field)
    messages = []
    for speaker, content in zip(pieces[1::2], pieces[2::2]):
        messages.append({"role": _ROLES[speaker], "content": content.strip()})
    if messages[0]["role"] != "user":
        raise RowSkip("does not start with a Human turn", field)
    return messages


class HHRLHFImporter(Importer):
    """HH-RLHF preference rows (helpful-base, harmless-base, ... and any data in the same form)."""

    name = "hh-rlhf"
    description = "chosen/rejected dialogues in '\\n\\nHuman: … \\n\\nAssistant: …' form (Anthropic HH-RLHF)"

    @classmethod
    def signature(cls, row: dict) -> bool:
        chosen = row.get("chosen")
        return isinstance(chosen, str) and "\n\nHuman:" in chosen and "rejected" in row

    def convert(self, row: dict) -> list[Record]:
        chosen = parse_dialogue(require_text(row, "chosen"), "chosen")
        rejected = parse_dialogue(require_text(row, "rejected"), "rejected")
        for name, turns in (("chosen", chosen), ("rejected", rejected)):
            if turns[-1]["role"] != "assistant":
                raise RowSkip("does not end with an Assistant turn", name)
            if not turns[-1]["content"]:
                raise RowSkip("final Assistant turn is empty", name)
        if chosen[:-1] != rejected[:-1]:
            raise RowSkip("chosen and rejected dialogues differ before their final Assistant turn", "rejected")
        if chosen[-1]["content"] == rejected[-1]["content"]:
            raise RowSkip("chosen and rejected final replies are identical (no preference to learn)", "rejected")
        return [Record(prompt=chosen[:-1], completion=[chosen[-1]], chosen=[chosen[-1]],
                       rejected=[rejected[-1]], meta={"turns": len(chosen)})]
