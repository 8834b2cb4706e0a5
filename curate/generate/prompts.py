"""Loading prompt files into prompt rows, with errors (or quarantine) that name file, line and field."""
from __future__ import annotations

import os
from typing import Any

from ..core.datafiles import iter_rows
from ..core.errors import InputError
from ..core.records import make_prompt_row

# Accepted names for the prompt text, in order of preference.
_TEXT_FIELDS = ("prompt", "instruction", "goal", "question", "text")
# Chat roles a chat template understands; anything else is a typo or another format's field.
CHAT_ROLES = ("system", "user", "assistant", "tool")


def check_chat_messages(value: list, path: str, line: int | None, field: str = "prompt") -> None:
    """Refuse chat messages that are not {role, content} objects, are all empty, use a role outside
    CHAT_ROLES, or have no user turn; the error names file, line and field."""
    if not value or not all(isinstance(m, dict) and "role" in m and "content" in m for m in value):
        raise InputError("chat messages must be a non-empty list of {role, content}",
                         path=path, line=line, field=field)
    if not any(str(m["content"]).strip() for m in value):
        raise InputError("prompt is empty", path=path, line=line, field=field)
    unknown = sorted({str(m["role"]) for m in value} - set(CHAT_ROLES))
    if unknown:
        raise InputError(f"unknown chat role(s) {', '.join(map(repr, unknown))}; roles are "
                         f"{', '.join(CHAT_ROLES)}", path=path, line=line, field=field)
    if not any(m["role"] == "user" for m in value):
        raise InputError("chat messages have no user turn: nothing for the model to answer",
                         path=path, line=line, field=field)


def _prompt_from_row(row: dict, path: str, line: int, text_field: str | None) -> dict:
    fields = (text_field,) if text_field else _TEXT_FIELDS
    field = next((f for f in fields if f in row), None)
    if field is None:
        raise InputError(f"missing; expected one of {', '.join(fields)} (found: {', '.join(row) or 'nothing'})",
                         path=path, line=line, field=fields[0])
    value = row[field]
    if isinstance(value, list):
        check_chat_messages(value, path, line, field)
    elif isinstance(value, str):
        if not value.strip():
            raise InputError("prompt is empty", path=path, line=line, field=field)
    else:
        raise InputError(f"must be a string or chat messages, got {type(value).__name__}",
                         path=path, line=line, field=field)
    ids = row.get("instruction_id_list")
    ids = [] if ids is None else ids
    kwargs = row.get("kwargs")
    kwargs = [{} for _ in ids] if kwargs is None else kwargs
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InputError("must be a list of instruction ids", path=path, line=line, field="instruction_id_list")
    if not isinstance(kwargs, list) or len(kwargs) != len(ids) or not all(isinstance(k, dict) for k in kwargs):
        raise InputError(f"must be a list of {len(ids)} objects, one per instruction",
                         path=path, line=line, field="kwargs")
    extra = {k: v for k, v in row.items()
             if k not in {field, "instruction_id_list", "kwargs", "category", "source", "prompt_id"}}
    if row.get("prompt_id") is not None:
        # prompt_id is always the stable hash of the prompt (candidate ids and dedup rely on it); the
        # file's own id is kept next to it so outputs can be joined back.
        extra["user_prompt_id"] = str(row["prompt_id"])
    if field == "instruction" and isinstance(value, str):
        value, joined = _join_alpaca_input(value, row, path, line)
        if joined:
            extra["input_joined"] = "newline"  # recorded: the prompt text is instruction + blank line + input
    out = make_prompt_row(value, instruction_id_list=ids, kwargs=kwargs,
                          category=str(row.get("category", "") or ""),
                          source=str(row.get("source", "") or os.path.basename(path)), **_plain(extra))
    return out


def _join_alpaca_input(instruction: str, row: dict, path: str, line: int) -> tuple[str, bool]:
    """An Alpaca row's `input` belongs to its instruction: join it (Alpaca order) rather than drop it."""
    from .alpaca_template import join_instruction_input
    input_text = row.get("input")
    if input_text is None or (isinstance(input_text, str) and not input_text.strip()):
        return instruction, False
    if not isinstance(input_text, str):
        raise InputError(f"must be text (the Alpaca input joined to the instruction), got "
                         f"{type(input_text).__name__}", path=path, line=line, field="input")
    return join_instruction_input(instruction, input_text, "newline"), True


def _plain(extra: dict[str, Any]) -> dict[str, Any]:
    # Keep simple provenance columns (e.g. IFEval's `key`) so outputs can be matched back.
    return {k: v for k, v in extra.items() if isinstance(v, (str, int, float, bool))}


def load_prompts(path: str | os.PathLike, *, text_field: str | None = None,
                 quarantine: bool = False) -> tuple[list[dict], list[dict]]:
    """Read a prompts file; return (prompt rows, quarantined rows).

    Without `quarantine`, the first bad row raises InputError (file, line, field). With it, bad rows are
    returned as {"line", "row", "drop_reason"} and the rest load. Duplicate prompts keep their first row.
    """
    rows, bad, seen = [], [], set()
    path = str(path)
    for line, raw in _iter_rows_or_quarantine(path, quarantine, bad):
        try:
            row = _prompt_from_row(raw, path, line, text_field)
        except InputError as e:
            if not quarantine:
                raise
            bad.append({"line": line, "row": raw, "drop_reason": f"load: {e}"})
            continue
        if row["prompt_id"] in seen:
            bad.append({"line": line, "row": raw, "drop_reason": f"load: duplicate of an earlier prompt ({row['prompt_id']})"})
            continue
        seen.add(row["prompt_id"])
        rows.append(row)
    if not rows and not bad:
        raise InputError("no prompts found", path=path)
    if not rows:
        first = sorted(bad, key=lambda b: b["line"])[0]
        raise InputError(f"no usable prompts: all {len(bad)} rows were rejected (first, line {first['line']}: "
                         f"{first['drop_reason']})", path=path)
    return rows, sorted(bad, key=lambda b: b["line"])


def _iter_rows_or_quarantine(path: str, quarantine: bool, bad: list[dict]):
    """iter_rows, but in quarantine mode an unreadable JSONL line is recorded in `bad` and skipped."""
    if not quarantine:
        yield from iter_rows(path)
        return
    from ..core.quarantine import read_rows_quarantined
    rows, unreadable = read_rows_quarantined(path)
    for u in unreadable:  # drop_reason there reads "input: line N: <why>"
        why = u["drop_reason"].split(": ", 2)[-1]
        bad.append({"line": u["_line"], "row": {"raw": u["raw"]}, "drop_reason": f"load: {path}:{u['_line']}: {why}"})
    for row in rows:
        line = row.pop("_line")
        yield line, row
