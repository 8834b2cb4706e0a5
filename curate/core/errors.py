"""Errors that tell the user what was wrong, where, and what to do."""
from __future__ import annotations


class InputError(ValueError):
    """Bad input data: names the file, line (1-based) and field when they are known."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.path, self.line, self.field, self.reason = path, line, field, message
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        if field is not None:
            where += f"field {field!r}: "
        super().__init__(where + message)
