"""What the Review page needs besides drawing: reviewable items of a run, blind order, progress, writing.

Kept apart from page_review.py so it can be tested without a browser. Runs are read through the
store's cached Parquet reader; item ids, the reviews file and the judge's verdicts are cached on the
file's (path, mtime, size), so paging through a 100k-pair run re-reads nothing until a file changes.
The reviews file format, its locked appends and the judge verdict lookup come from
`alignsmith.evaluate.reviews` (the only floor this package may import).
"""
from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import streamlit as st

from alignsmith.evaluate import reviews as rv

from .store import Run, RunReadError, read_json, read_jsonl
from .widgets import plain_text

ROW_FILES = {"pairs": "dpo.parquet", "curate": "kept.parquet"}
REVIEW_KINDS = tuple(ROW_FILES)
BLIND_LABELS = {"A": 0, "B": 1}  # shown label -> position in the shown order


def rows_file(run: Run) -> Path:
    """The Parquet file whose rows are reviewed (dpo.parquet of a pairs run, kept.parquet of a curate run)."""
    return run.file(ROW_FILES[run.kind])


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


@st.cache_resource(show_spinner=False, max_entries=4)
def _rows_cached(path: str, mtime_ns: int, size: int) -> tuple:
    # cache_resource, not cache_data: cache_data unpickles a copy on every rerun (seconds for 100k pairs
    # with nested chat columns); the table and ids are shared read-only and never modified here.
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several types for truncated or foreign files
        raise RunReadError(f"{path}: not a readable Parquet file ({type(err).__name__}: {err})") from err
    id_columns = [c for c in ("pair_id", "prompt_id", "chosen_id", "rejected_id", "candidate_id")
                  if c in table.column_names]
    # Ids need only the id columns (prompt/response only for rows without ids), not the whole table.
    columns = id_columns if {"chosen_id", "rejected_id"} <= set(id_columns) or "pair_id" in id_columns \
        or "candidate_id" in id_columns else table.column_names
    ids = [rv.item_id(r) for r in table.select(columns).to_pylist()]
    return table, ids


class RunItems:
    """A run's reviewable rows (a shared Arrow table) and their item ids in row order."""

    def __init__(self, table, ids: list[str]):
        self.table, self.ids = table, ids

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, position: int) -> dict:
        """One row as plain Python values (only that row is converted)."""
        return self.table.slice(position, 1).to_pylist()[0]


def load_items(run: Run) -> RunItems:
    """The run's rows and their item ids (cached on the file's path, mtime and size)."""
    path = rows_file(run)
    if not path.exists():
        raise RunReadError(f"{path}: file is missing")
    return RunItems(*_rows_cached(*_stamp(path)))


def reviews_file(run: Run) -> Path:
    """The run's reviews file, beside its folder."""
    return rv.reviews_path(run.path)


def audit_file(run: Run) -> Path:
    """The audit sample `alignsmith pairs sample-audit` writes beside the run."""
    return run.path.resolve().with_name(run.path.resolve().name + ".audit.jsonl")


@st.cache_resource(show_spinner=False, max_entries=8)  # shared read-only, see _rows_cached
def _reviews_cached(path: str, mtime_ns: int, size: int) -> list[dict]:
    return rv.read_reviews(path)


def read_run_reviews(run: Run) -> list[dict]:
    """Every review written for the run so far ([] before the first); cached until the file changes."""
    path = reviews_file(run)
    return _reviews_cached(*_stamp(path)) if path.exists() else []


@st.cache_resource(show_spinner=False, max_entries=4)  # shared read-only, see _rows_cached
def _judge_cached(path: str, mtime_ns: int, size: int) -> dict[str, str]:
    return rv.judge_labels(Path(path).parent)


def judge_verdicts(run: Run) -> dict[str, str]:
    """item_id -> the LLM judge's both-orders verdict in pair terms, when the run had a pairwise judge."""
    path = run.file("judgements.jsonl")
    return _judge_cached(*_stamp(path)) if run.kind == "pairs" and path.exists() else {}


def card(run: Run) -> dict:
    """The run's card.json ({} when absent or unreadable)."""
    try:
        loaded = read_json(run.file("card.json")) if run.file("card.json").exists() else {}
    except Exception:  # an unreadable card only costs the page its judge summary
        return {}
    return loaded if isinstance(loaded, dict) else {}


def sides(run: Run, row: dict) -> dict[str, str]:
    """The answers of an item as plain text: chosen/rejected for a pair, response for a curate row."""
    if run.kind == "pairs":
        return {"chosen": plain_text(row.get("chosen")), "rejected": plain_text(row.get("rejected"))}
    return {"response": plain_text(row.get("response"))}


def why_made(row: dict) -> str:
    """One line on why the pair exists: strategy, margin, similarity, category."""
    bits = [f"strategy {row.get('strategy')}" if row.get("strategy") else "",
            f"margin {float(row['margin']):.3f}" if row.get("margin") is not None else "",
            f"similarity {float(row['similarity']):.2f}" if _number(row.get("similarity")) else "",
            f"category {row.get('category')}" if row.get("category") else ""]
    return "; ".join(b for b in bits if b) or "no provenance recorded"


def _number(value) -> bool:
    try:
        return value is not None and float(value) == float(value)
    except (TypeError, ValueError):
        return False


def blind_order(seed: int, reviewer: str, iid: str) -> list[str]:
    """The order (chosen/rejected) a reviewer is shown an item in for blind labelling: random, but fixed
    by (seed, reviewer, item) so a rerun of the page shows the same order that gets recorded."""
    rng = random.Random(f"{seed}|{reviewer}|{iid}")
    order = ["chosen", "rejected"]
    rng.shuffle(order)
    return order


def label_from_shown(shown: str, order: list[str]) -> str:
    """The pair-terms label (chosen/rejected/tie) of a blind answer "A" / "B" / "tie"."""
    return "tie" if shown == "tie" else order[BLIND_LABELS[shown]]


def visible_positions(ids: list[str], records: list[dict], reviewer: str, show: str,
                      audit_ids: set[str] | None = None) -> list[int]:
    """Row positions to page through: all, those this reviewer has not reviewed yet, or the audit sample."""
    if show == "audit sample" and audit_ids is not None:
        return [i for i, iid in enumerate(ids) if iid in audit_ids]
    if show == "not reviewed by me":
        done = {r["item_id"] for r in records if r["reviewer"] == reviewer}
        return [i for i, iid in enumerate(ids) if iid not in done]
    return list(range(len(ids)))


def read_audit_ids(run: Run) -> set[str] | None:
    """Item ids of the run's audit sample (`pairs sample-audit`), None when there is none."""
    path = audit_file(run)
    if not path.exists():
        return None
    return {str(row.get("item_id")) for row in read_jsonl(path)}


def write_review(run: Run, iid: str, reviewer: str, decision: str, **fields) -> dict:
    """Validate and append one review to the run's reviews file; return the record written."""
    record = rv.make_review(run.path, iid, reviewer, decision, **fields)
    rv.append_review(reviews_file(run), record)
    return record


def item_history(records: list[dict], iid: str) -> pd.DataFrame:
    """Reviews of one item so far, oldest first, as a text table."""
    rows = [{"time": r["time"], "reviewer": r["reviewer"], "decision": r["decision"],
             "detail": r.get("reason") or r.get("label") or (r.get("edit") or {}).get("side") or ""}
            for r in records if r["item_id"] == iid]
    return pd.DataFrame(rows, columns=["time", "reviewer", "decision", "detail"])
