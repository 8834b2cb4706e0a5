"""Matching a file of existing responses to task items (`eval run --responses FILE`).

A row needs `response` and something that names its item: `item_id` (or IFEval's `key`), `prompt_id`,
or the `prompt` itself (text or chat messages). Optional `task` and `task_version` say which task the
row answers; an eval run's items.parquet has all of these, so a run's responses can be re-scored.
Problems are errors naming the rows: answers for another task version, the same item answered twice,
items of the evaluated slice with no answer, rows that match no item.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from alignsmith.curate.core.datafiles import iter_rows
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import prompt_id

from .tasks import EvalItem

_SHOW = 8  # ids listed in an error before "and N more"


@dataclass
class Answer:
    """A response from the file and the line it came from."""

    response: str
    finish_reason: str
    line: int


def _listing(values: Sequence[str]) -> str:
    shown = ", ".join(str(v) for v in values[:_SHOW])
    return shown + (f" and {len(values) - _SHOW} more" if len(values) > _SHOW else "")


def _row_prompt_id(row: dict) -> str | None:
    if row.get("prompt_id"):
        return str(row["prompt_id"])
    prompt = row.get("prompt")
    if isinstance(prompt, str) or (isinstance(prompt, list) and prompt):
        return prompt_id(prompt)
    return None


class _TaskIndex:
    """Look-ups from item id and prompt id to a task's items."""

    def __init__(self, items: Sequence[EvalItem]):
        self.by_item = {it.item_id: it for it in items}
        self.by_prompt = {it.prompt_id: it for it in items}

    def find(self, row: dict) -> EvalItem | None:
        """The item a response row answers (by item id first, then prompt id / prompt), or None."""
        key = row.get("item_id", row.get("key"))
        if key is not None and str(key) in self.by_item:
            return self.by_item[str(key)]
        pid = _row_prompt_id(row)
        return self.by_prompt.get(pid) if pid else None


def match_responses(path: str | os.PathLike, all_items: dict[str, Sequence[EvalItem]],
                    wanted: dict[str, Sequence[EvalItem]], versions: dict[str, str]) -> dict[tuple[str, str], Answer]:
    """Answers keyed by (task, item_id) for every wanted item; raise InputError naming any problem.

    `all_items` are each task's full item lists (a row answering an item outside the --limit slice is
    fine); `wanted` the slices that must all be answered; `versions` each task's current version.
    """
    path = str(path)
    indexes = {t: _TaskIndex(items) for t, items in all_items.items()}
    answers: dict[tuple[str, str], Answer] = {}
    duplicates, wrong_version, unmatched = [], [], []
    for line, row in iter_rows(path):
        response = row.get("response")
        if not isinstance(response, str):
            raise InputError("missing or non-text response", path=path, line=line, field="response")
        task_name = row.get("task")
        if task_name is not None and task_name not in indexes:
            continue  # answers for a task not being evaluated now
        targets = [task_name] if task_name is not None else list(indexes)
        matched = False
        for t in targets:
            item = indexes[t].find(row)
            if item is None:
                continue
            matched = True
            version = row.get("task_version")
            if version is not None and str(version) != versions[t]:
                wrong_version.append(f"line {line} ({t} version {version}, current {versions[t]})")
                continue
            key = (t, item.item_id)
            if key in answers:
                duplicates.append(f"{t}/{item.item_id} (lines {answers[key].line} and {line})")
                continue
            answers[key] = Answer(response, str(row.get("finish_reason") or "stop"), line)
        if not matched:
            unmatched.append(f"line {line}")
    if wrong_version:
        raise InputError(f"{len(wrong_version)} responses were made for another task version: "
                         f"{_listing(wrong_version)}; re-generate them for the current version", path=path)
    if duplicates:
        raise InputError(f"{len(duplicates)} items are answered more than once: {_listing(duplicates)}; "
                         "keep one response per item", path=path)
    if unmatched:
        raise InputError(f"{len(unmatched)} rows match no item of tasks {', '.join(indexes)}: "
                         f"{_listing(unmatched)}; check item_id / prompt_id / prompt and --tasks", path=path)
    wanted_keys = [(t, it.item_id) for t, items in wanted.items() for it in items]
    missing = [f"{t}/{i}" for t, i in wanted_keys if (t, i) not in answers]
    if missing:
        raise InputError(f"no response for {len(missing)} items: {_listing(missing)}; add them or evaluate "
                         "a smaller slice with --limit", path=path)
    return {key: answers[key] for key in wanted_keys}
