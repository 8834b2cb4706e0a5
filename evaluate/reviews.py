"""Human reviews on the evaluate floor: agreement between reviewers and with the judge, gold export,
and the reviews-file API for the dashboard (which may import only `evaluate`).

The file format and its locked appends live in `alignsmith.curate.pairs.reviews` (apply-review, a curate
command, needs them); they are re-exported here so the dashboard has one place to import from.
Labels are read in pair terms (`chosen` / `rejected` / `tie`: which side of the reviewed pair is
better), whatever order the reviewer saw the answers in.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Iterable

from alignsmith.curate.core.datafiles import read_parquet, write_jsonl
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import as_messages, user_text
from alignsmith.curate.pairs.reviews import (
    DECISIONS,
    LABELS,
    VERDICTS,
    append_review,
    check_review,
    item_id,
    latest_by_item,
    make_review,
    read_reviews,
    reviews_path,
    run_fingerprint,
)

__all__ = ["InputError", "DECISIONS", "LABELS", "VERDICTS", "append_review", "check_review", "item_id", "latest_by_item",
           "make_review", "read_reviews", "reviews_path", "run_fingerprint", "labels_by_reviewer",
           "cohen_kappa", "reviewer_agreement", "judge_labels", "agreement_with", "gold_rows", "write_gold",
           "review_progress"]

JUDGE_TO_LABEL = {"first": "chosen", "second": "rejected", "tie": "tie"}  # judge ran (chosen, rejected)


def labels_by_reviewer(records: Iterable[dict], kind: str = "label") -> dict[str, dict[str, str]]:
    """reviewer -> {item_id: value}: each reviewer's latest blind label (kind 'label') or latest verdict
    (kind 'verdict': accept / reject / swap) per item."""
    out: dict[str, dict[str, str]] = {}
    for r in records:
        if kind == "label" and r["decision"] == "label":
            out.setdefault(r["reviewer"], {})[r["item_id"]] = r["label"]
        elif kind == "verdict" and r["decision"] in VERDICTS:
            out.setdefault(r["reviewer"], {})[r["item_id"]] = r["decision"]
    return out


def cohen_kappa(a: list[str], b: list[str], categories: Iterable[str]) -> dict:
    """Cohen's kappa (scikit-learn's) and the confusion table (rows: a, columns: b) over paired labels.

    kappa is None when it is undefined: no items, or both raters used one and the same category
    (expected agreement 1, so the formula divides by zero).
    """
    from sklearn.metrics import cohen_kappa_score, confusion_matrix
    categories = list(categories)
    extra = sorted((set(a) | set(b)) - set(categories))
    categories += extra
    table = confusion_matrix(a, b, labels=categories).tolist() if a else [[0] * len(categories)] * len(categories)
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n if n else None
    kappa = None
    if n and len(set(a) | set(b)) > 1:
        kappa = float(cohen_kappa_score(a, b, labels=categories))
        kappa = None if math.isnan(kappa) else kappa
    return {"n": n, "kappa": kappa, "observed_agreement": observed, "categories": categories,
            "confusion": table}


def reviewer_agreement(records: list[dict], kind: str = "label") -> list[dict]:
    """Kappa and confusion table for every pair of reviewers on the items both of them labelled."""
    by_reviewer = labels_by_reviewer(records, kind)
    categories = LABELS if kind == "label" else VERDICTS
    out = []
    for first, second in combinations(sorted(by_reviewer), 2):
        shared = sorted(set(by_reviewer[first]) & set(by_reviewer[second]))
        stats = cohen_kappa([by_reviewer[first][i] for i in shared], [by_reviewer[second][i] for i in shared],
                            categories)
        out.append({"kind": kind, "a": first, "b": second, **stats})
    return out


def judge_labels(run_path: str | Path) -> dict[str, str]:
    """item_id -> the pairwise LLM judge's verdict on the pair, in pair terms (chosen/rejected/tie).

    Read from the run's judgements.jsonl (both-orders verdicts of the `judge` scorer); a pair the judge
    did not compare, or whose two orders disagreed or did not parse, has no entry.
    """
    run_path = Path(run_path)
    file = run_path / "judgements.jsonl"
    if not file.exists() or not (run_path / "dpo.parquet").exists():
        return {}
    verdicts = {}
    for line in file.read_text(encoding="utf-8").splitlines():
        j = json.loads(line) if line.strip() else {}
        if j.get("kind") == "pairwise" and j.get("verdict") in JUDGE_TO_LABEL:
            verdicts[(j["first_id"], j["second_id"])] = j["verdict"]
    if not verdicts:  # no pairwise judge ran: skip reading the pairs at all
        return {}
    import pyarrow.parquet as pq
    # Only the id columns: item ids need no text, and a 100k-pair file's chat columns are most of its bytes.
    table = pq.read_table(run_path / "dpo.parquet")
    columns = [c for c in ("pair_id", "prompt_id", "chosen_id", "rejected_id") if c in table.column_names]
    out = {}
    for row in table.select(columns).to_pylist():
        forward = verdicts.get((row["chosen_id"], row["rejected_id"]))
        backward = verdicts.get((row["rejected_id"], row["chosen_id"]))
        if forward:
            out[item_id(row)] = JUDGE_TO_LABEL[forward]
        elif backward:  # the judge compared them the other way round
            out[item_id(row)] = {"first": "rejected", "second": "chosen", "tie": "tie"}[backward]
    return out


def agreement_with(records: list[dict], reference: dict[str, str], name: str) -> list[dict]:
    """Each reviewer's labels against a reference labelling (the judge, or the build's `chosen`)."""
    out = []
    for reviewer, labels in sorted(labels_by_reviewer(records).items()):
        shared = sorted(set(labels) & set(reference))
        stats = cohen_kappa([labels[i] for i in shared], [reference[i] for i in shared], LABELS)
        out.append({"kind": f"vs {name}", "a": reviewer, "b": name, **stats})
    return out


def gold_rows(run_path: str | Path, records: list[dict], *, ties: bool = False) -> tuple[list[dict], dict]:
    """Human-labelled pairs as gold rows for `alignsmith judge card --gold`, and what was left out.

    One row per labelled item with a strict-majority label among its reviewers: `prompt` (the user's text),
    `chosen` (the answer the humans preferred, which may be the pair's rejected side) and `rejected` (the
    other) — what the judge card reads — plus `prompt_messages`, `response_a` / `response_b` in the order
    the first labelling reviewer saw them, `label` ("A" / "B" / "tie"), `item_id`, `annotators`, `votes`.
    Ties have no preferred answer, so the judge card cannot use them: left out unless `ties`, and then
    written without `chosen` / `rejected`. Returns (rows, {"no_majority": n, "ties": n}).
    """
    rows = {item_id(r): r for r in read_parquet(Path(run_path) / "dpo.parquet")}
    out, left_out = [], {"no_majority": 0, "ties": 0}
    for iid, entry in latest_by_item(records).items():
        labels = list(entry["labels"].values())
        if not labels or iid not in rows:
            continue
        votes = Counter(r["label"] for r in labels)
        (top, count), *rest = votes.most_common()
        if rest and rest[0][1] == count:
            left_out["no_majority"] += 1
            continue
        if top == "tie" and not ties:
            left_out["ties"] += 1
            continue
        first = min(labels, key=lambda r: r["_line"])
        order = first["shown_order"]
        pair = rows[iid]
        text = {side: pair[side][-1]["content"] for side in ("chosen", "rejected")}
        messages = as_messages(pair["prompt"])
        row = {"prompt": user_text(messages)}
        if top != "tie":
            row.update(chosen=text[top], rejected=text["rejected" if top == "chosen" else "chosen"])
        row.update(prompt_messages=messages, response_a=text[order[0]], response_b=text[order[1]],
                   label="tie" if top == "tie" else "AB"[order.index(top)], item_id=iid,
                   annotators=sorted(entry["labels"]), votes=dict(votes))
        out.append(row)
    return out, left_out


def write_gold(path: str | Path, rows: list[dict]) -> None:
    """Write gold rows as JSONL (atomically)."""
    if not rows:
        raise InputError("no labelled pair has a majority label; nothing to write", path=str(path))
    write_jsonl(path, rows)


def review_progress(records: list[dict], total: int) -> dict:
    """Items with any review, per decision counts and per reviewer counts, for a progress bar."""
    reviewed = {r["item_id"] for r in records}
    return {"total": total, "reviewed": len(reviewed), "share": len(reviewed) / total if total else 0.0,
            "decisions": dict(Counter(r["decision"] for r in records)),
            "reviewers": dict(Counter(r["reviewer"] for r in records))}
