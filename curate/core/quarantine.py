"""Bad input is quarantined with a reason, never lost and never allowed to crash a long run.

A row whose text is missing, not a string, or absurdly long, and a JSONL line that is not valid UTF-8 or
not JSON, becomes a dropped row with `drop_reason = "input: <what is wrong>"` and the line it came from.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .datafiles import iter_rows
from .errors import InputError
from .records import as_messages, user_text
from .run_state import require_finished

MAX_TEXT_CHARS = 1_000_000  # a 1M-character "response" is a data bug, not text to learn from
RAW_PREVIEW_CHARS = 2_000   # how much of an unreadable line a quarantined row keeps


def text_of(value: Any) -> str | None:
    """A string field as is; chat messages as their last user turn; anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(m, dict) for m in value):
        try:
            return user_text(as_messages(value))
        except (KeyError, TypeError):
            return None
    return None


def text_problem(row: dict, field: str, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """Why `row[field]` cannot be used as text, or None when it can."""
    if field not in row or row[field] is None:
        return f"missing text field {field!r}"
    text = text_of(row[field])
    if text is None:
        return f"field {field!r} is {type(row[field]).__name__}, not text"
    if len(text) > max_chars:
        return f"field {field!r} has {len(text):,} characters, over the {max_chars:,} limit"
    return None


def require_field(rows: list[dict], field: str, source: str | None = None, flag: str = "--text-field") -> None:
    """Refuse a text field that no row has (a misspelt `--text-field` would otherwise drop every row as
    "missing"), naming the nearest field the rows do have. Called before any work starts."""
    if not rows or any(field in r for r in rows):
        return
    import difflib
    seen = sorted({k for r in rows[:1000] for k in r if not str(k).startswith("_")})
    hint = difflib.get_close_matches(field, seen, n=1, cutoff=0.5)
    raise InputError(f"no row has the field {field!r} ({flag})" + (f"; did you mean {hint[0]!r}?" if hint else "")
                     + f" Fields in the rows: {', '.join(seen)}", path=source, field=field)


def quarantined(row: dict, reason: str) -> dict:
    """The dropped form of a bad row."""
    return {**row, "drop_reason": f"input: {reason}"}


def read_rows_quarantined(path: str | os.PathLike) -> tuple[list[dict], list[dict]]:
    """Read rows; for JSONL, lines that are not UTF-8 or not a JSON object are quarantined, not fatal.

    Every row gets `_line` (1-based line or row number) so a later problem can still name its source.
    Other formats are read whole by `datafiles.iter_rows` (their errors name file and line).
    """
    path = Path(path)
    if not path.name.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
        return [{**row, "_line": n} for n, row in iter_rows(path)], []
    if not path.exists():
        raise InputError("file does not exist", path=str(path))
    require_finished(path)
    rows, bad = [], []
    import gzip
    opener = gzip.open if path.suffix == ".gz" else open  # compressed JSONL (e.g. HH-RLHF's *.jsonl.gz)
    with opener(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            row, reason = _parse_line(raw)
            if reason is not None:
                preview = raw[:RAW_PREVIEW_CHARS].decode("utf-8", errors="replace")
                bad.append({"_line": lineno, "raw": preview, "drop_reason": f"input: line {lineno}: {reason}"})
            elif row is not None:
                rows.append({**row, "_line": lineno})
    return rows, bad


def _parse_line(raw: bytes) -> tuple[dict | None, str | None]:
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")  # a UTF-8 byte-order mark (Windows editors)
    except UnicodeDecodeError as e:
        return None, f"invalid UTF-8 ({e.reason} at byte {e.start})"
    if not text.strip():
        return None, None
    try:
        row = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"malformed JSON: {e.msg} (column {e.colno})"
    if not isinstance(row, dict):
        return None, f"line is a JSON {type(row).__name__}, expected an object"
    return row, None
