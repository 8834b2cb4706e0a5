"""Human reviews of a finished pairs or curate run: one JSON line per decision, in a file beside the run.

The reviews file of `runs/pairs/<name>/` is `runs/pairs/<name>.reviews.jsonl`: beside the run folder,
never inside it, so a finished run is never modified and two reviewers append to one file. Appends take
an exclusive `fcntl.flock` and write each record with one `write` call, so lines from concurrent
writers never interleave. A record names the run it belongs to by a fingerprint (config hash + DONE
stamp), so a reviews file cannot be applied to another run by mistake. docs/formats.md has the fields.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import functools
import json
import os
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..core.errors import InputError
from ..core.records import stable_hash
from ..core.run_state import DONE_FILE, file_sha256, is_done

SCHEMA = "alignsmith.review/1"
VERDICTS = ("accept", "reject", "swap")      # what happens to the item; a reviewer's latest one counts
DECISIONS = VERDICTS + ("edit", "label")     # edit: new text for one side; label: a blind preference
LABELS = ("chosen", "rejected", "tie")       # which side of the pair the reviewer found better
PAIR_SIDES = ("chosen", "rejected")
ITEM_SIDES = PAIR_SIDES + ("response",)      # `response`: the one answer of a curate-run row
ROW_FILES = ("dpo.parquet", "kept.parquet")  # the reviewable rows of a pairs / curate run
REQUIRED = ("schema", "run", "run_fingerprint", "item_id", "reviewer", "time", "decision")


def reviews_path(run_path: str | os.PathLike) -> Path:
    """The default reviews file of a run: `<run folder>.reviews.jsonl`, a sibling of the folder."""
    run_path = Path(run_path).resolve()
    return run_path.with_name(run_path.name + ".reviews.jsonl")


def run_fingerprint(run_path: str | os.PathLike) -> str:
    """A finished run's identity: hash of its folder name, config hash, DONE stamp and the sha256 of its
    rows file (dpo.parquet or kept.parquet), so two runs made in the same second still differ (moving
    the runs folder keeps it; renaming the run folder does not). InputError if the run is unfinished."""
    run_path = Path(run_path)
    done = run_path / DONE_FILE
    if not done.exists():
        raise InputError("run has no DONE file: only finished runs can be reviewed", path=str(run_path))
    config_file = run_path / "config.yaml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
    config_hash = (config or {}).get("config_hash") if isinstance(config, dict) else None
    rows = next((run_path / n for n in ROW_FILES if (run_path / n).exists()), None)
    digest = _file_sha256(str(rows), *_stamp(rows)) if rows else None
    return "run-" + stable_hash([run_path.resolve().name, config_hash, done.read_text(encoding="utf-8").strip(), digest], length=12)


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=32)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    # Cached on (path, mtime, size): a 100k-pair file is hashed once per process, not per review written.
    return file_sha256(path)


def item_id(row: dict) -> str:
    """The stable id of a reviewable row: a pair's `pair_id` (or a hash of its prompt and candidate
    ids), a curate row's `candidate_id` (or a hash of its prompt and response)."""
    if row.get("pair_id"):
        return str(row["pair_id"])
    if row.get("review_item_id"):  # a reviewed curate row keeps its id even after its response was edited
        return str(row["review_item_id"])
    if row.get("chosen_id") is not None and row.get("rejected_id") is not None:
        return "pr-" + stable_hash([row.get("prompt_id"), row["chosen_id"], row["rejected_id"]])
    if row.get("candidate_id"):
        return str(row["candidate_id"])
    return "cd-" + stable_hash([row.get("prompt"), row.get("response")])


def utc_now() -> str:
    """The current UTC time as ISO 8601 with a `Z` suffix, to the second."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_review(run_path: str | os.PathLike, item: str, reviewer: str, decision: str, *,
                reason: str | None = None, edit: dict | None = None, label: str | None = None,
                shown_order: list[str] | None = None, shown_label: str | None = None,
                order_seed: int | None = None, time: str | None = None) -> dict:
    """A validated review record for `item` of the finished run at `run_path`."""
    run_path = Path(run_path)
    record = {"schema": SCHEMA, "run": run_path.name, "run_fingerprint": run_fingerprint(run_path),
              "item_id": str(item), "reviewer": (reviewer or "").strip(), "time": time or utc_now(),
              "decision": decision, "reason": reason or None, "edit": edit, "label": label,
              "shown_order": shown_order, "shown_label": shown_label, "order_seed": order_seed}
    check_review(record)
    return record


def check_review(record: Any, *, path: str | None = None, line: int | None = None) -> dict:
    """Raise InputError (naming file, line and field) unless `record` is a well-formed review."""
    def bad(field: str, why: str) -> InputError:
        return InputError(why, path=path, line=line, field=field)

    if not isinstance(record, dict):
        raise InputError(f"a review is a JSON object, found {type(record).__name__}", path=path, line=line)
    for name in REQUIRED:
        if record.get(name) in (None, ""):
            raise bad(name, "missing")
    if record["schema"] != SCHEMA:
        raise bad("schema", f"{record['schema']!r} is not {SCHEMA!r}")
    decision = record["decision"]
    if decision not in DECISIONS:
        raise bad("decision", f"{decision!r} is not one of {list(DECISIONS)}")
    if decision == "reject" and not str(record.get("reason") or "").strip():
        raise bad("reason", "a rejection needs a reason")
    if decision == "edit":
        edit = record.get("edit")
        if not isinstance(edit, dict) or edit.get("side") not in ITEM_SIDES or not isinstance(edit.get("text"), str):
            raise bad("edit", f"an edit is {{side: one of {list(ITEM_SIDES)}, text: str}}")
        if not edit["text"].strip():
            raise bad("edit", "edited text is empty (reject the item instead)")
    if decision == "label":
        if record.get("label") not in LABELS:
            raise bad("label", f"{record.get('label')!r} is not one of {list(LABELS)}")
        order = record.get("shown_order")
        if not isinstance(order, list) or sorted(order) != sorted(PAIR_SIDES):
            raise bad("shown_order", "a blind label records the order shown, e.g. [\"rejected\", \"chosen\"]")
    return record


def append_review(path: str | os.PathLike, record: dict) -> None:
    """Append one review line to `path` under an exclusive lock (safe with several writers).

    Refuses a path inside the reviewed run's folder: finished runs are never modified.
    """
    check_review(record)
    path = Path(path)
    if is_done(path.parent) or (path.parent / "config.yaml").exists():
        raise InputError("reviews go beside a run folder, never inside one; use "
                         f"{reviews_path(path.parent)}", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            # One write of the whole line: with O_APPEND and the lock no other writer lands inside it.
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(f"{path}: short write ({written} of {len(data)} bytes); disk full?")
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def read_reviews(path: str | os.PathLike) -> list[dict]:
    """Every review in `path`, validated; a bad line raises InputError with its line number.

    A last line without its newline is a record still being written by another process: skipped.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("reviews file does not exist", path=str(path))
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if number == len(lines):  # no newline after it: a record still being appended
            break
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputError(f"not a JSON line ({err})", path=str(path), line=number) from err
        records.append({**check_review(record, path=str(path), line=number), "_line": number})
    return records


def read_reviews_for(run_path: str | os.PathLike, files: Iterable[str | os.PathLike]) -> list[dict]:
    """Reviews from `files` (in order), checked to belong to the run at `run_path`."""
    expected = run_fingerprint(run_path)
    out = []
    for f in files:
        for record in read_reviews(f):
            if record["run_fingerprint"] != expected:
                raise InputError(f"this review is for run {record['run']!r} (fingerprint "
                                 f"{record['run_fingerprint']}), not {Path(run_path).name!r} ({expected}); "
                                 "pass the reviews file written for this run", path=str(f),
                                 line=record["_line"], field="run_fingerprint")
            out.append({**record, "_file": str(f)})
    return out


def latest_by_item(records: Iterable[dict]) -> dict[str, dict]:
    """Per item: the latest verdict, the latest edit per side, each reviewer's latest label, reviewers.

    Records are taken in file order (appends are serialised by the lock, so file order is time order).
    """
    items: dict[str, dict] = {}
    for r in records:
        entry = items.setdefault(r["item_id"], {"verdict": None, "verdicts": {}, "edits": {}, "labels": {},
                                                "reviewers": []})
        if r["reviewer"] not in entry["reviewers"]:
            entry["reviewers"].append(r["reviewer"])
        if r["decision"] in VERDICTS:
            entry["verdict"] = r
            entry["verdicts"][r["reviewer"]] = r["decision"]
        elif r["decision"] == "edit":
            entry["edits"][r["edit"]["side"]] = r
        else:
            entry["labels"][r["reviewer"]] = r
    return items
