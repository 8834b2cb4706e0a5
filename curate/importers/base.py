"""The importer contract: one reader per source format turns a source row into records, or skips it with a reason.

A reader never writes files and never decides what is kept: `importers.run` drives it, quarantines skipped
rows with their reasons and writes the run folder. Readers are found through a lazy "module:Class" table, so
this module imports none of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..core.records import Messages
from ..core.registry import Registry

BUILTIN_IMPORTERS = {
    "alpaca": "alignsmith.curate.importers.alpaca:AlpacaImporter",
    "sharegpt": "alignsmith.curate.importers.chat:ShareGPTImporter",
    "openai": "alignsmith.curate.importers.chat:OpenAIImporter",
    "hh-rlhf": "alignsmith.curate.importers.hh_rlhf:HHRLHFImporter",
    "ultrafeedback": "alignsmith.curate.importers.ultrafeedback:UltraFeedbackImporter",
}
IMPORTERS: Registry[type[Importer]] = Registry("import format", BUILTIN_IMPORTERS)


class RowSkip(Exception):
    """A source row that cannot become a record: `reason` says why, `field` where (dotted path)."""

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason, self.field = reason, field


@dataclass
class Record:
    """What one source row (or one of its parts) holds, in chat messages.

    `prompt` is the context up to the reply; `completion` the reply (SFT); `chosen`/`rejected` a preference;
    `candidates` rated replies ({"response", "rating", "model"}) that the pair rules turn into pairs.
    """

    prompt: Messages
    completion: Messages | None = None
    chosen: Messages | None = None
    rejected: Messages | None = None
    candidates: list[dict] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # plain provenance values (source id, model, ...)


class Importer:
    """Base class: `signature(row)` says whether a row looks like this format; `convert(row)` reads it."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, **options: Any):
        self.options = options

    @classmethod
    def signature(cls, row: dict) -> bool:
        """Whether `row` has this format's distinguishing fields (used by --format auto)."""
        raise NotImplementedError

    def convert(self, row: dict) -> list[Record]:
        """The records in one source row; raise RowSkip(reason, field) when the row is unusable."""
        raise NotImplementedError

    def recorded_options(self) -> dict:
        """The options that change the output (written to config.yaml)."""
        return dict(self.options)


def importer_class(name: str) -> type[Importer]:
    """The reader class registered as `name` (imported on first use; "did you mean" on a typo)."""
    return IMPORTERS.get(name)


def get_importer(name: str, **options: Any) -> Importer:
    """Construct the reader for `name` with its options."""
    return importer_class(name)(**options)


# -- helpers the readers share ----------------------------------------------------------------------------

def require_text(row: dict, key: str, where: str | None = None, *, allow_empty: bool = False) -> str:
    """row[key] as a string; RowSkip naming the field when missing, not text, or empty."""
    path = where or key
    if key not in row or row[key] is None:
        raise RowSkip("missing", path)
    value = row[key]
    if not isinstance(value, str):
        raise RowSkip(f"is {type(value).__name__}, expected text", path)
    if not allow_empty and not value.strip():
        raise RowSkip("is empty", path)
    return value


def optional_text(row: dict, key: str) -> str:
    """row[key] as a string, '' when absent or null; RowSkip when it is another type."""
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RowSkip(f"is {type(value).__name__}, expected text", key)
    return value


def split_last_reply(messages: Messages, where: str) -> tuple[Messages, Messages | None]:
    """(context, [last assistant turn]) when the dialogue ends with a reply, else (messages, None)."""
    if not messages:
        raise RowSkip("has no turns", where)
    if messages[-1]["role"] != "assistant":
        return messages, None
    context = messages[:-1]
    if not any(m["role"] == "user" for m in context):
        raise RowSkip("has no user turn before the reply", where)
    return context, [messages[-1]]


def every_reply(messages: Messages, where: str) -> list[tuple[Messages, Messages]]:
    """(context, [reply]) for every assistant turn that follows a user turn (multi-turn SFT)."""
    out = []
    for i, m in enumerate(messages):
        if m["role"] == "assistant" and any(p["role"] == "user" for p in messages[:i]):
            out.append((messages[:i], [m]))
    if not out:
        raise RowSkip("has no assistant reply after a user turn", where)
    return out
