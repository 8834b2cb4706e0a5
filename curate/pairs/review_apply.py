"""`apply_reviews`: a NEW pairs run with people's decisions applied; the reviewed run stays untouched.

Per pair (see reviews.latest_by_item): the latest verdict decides (reject drops the pair into
dropped_pairs.parquet with the reviewer's reason, swap exchanges chosen and rejected, accept keeps it),
the latest edit of each side replaces that side's text (applied before a swap: edits name the sides of
the reviewed run), and every reviewer's blind label is kept in `human_labels`. The card gains a
`review` section: counts per decision and what each reviewer did.
"""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

from ..core.datafiles import read_parquet, write_json, write_parquet
from ..core.errors import InputError
from ..core.funnel import funnel_entry, funnel_from_counts, funnel_metrics
from ..core.runs import RunFolder
from .card import card_markdown, margin_histogram
from .export import pairs_metrics
from .reviews import item_id, latest_by_item, read_reviews_for, run_fingerprint
from .rules import chosen_is_longer

# Columns that belong to one side of a pair; a swap exchanges each chosen_* with its rejected_*.
SIDE_COLUMNS = ("", "_score", "_scores", "_id", "_chars")
CARRIED = ("sft.parquet", "prompts.parquet", "scored_candidates.parquet", "dropped_candidates.parquet",
           "judgements.jsonl")


def apply_reviews(run_path: str | os.PathLike, review_files: list[str | os.PathLike],
                  out: str | os.PathLike | None = None) -> RunFolder:
    """Write a new run from the finished pairs (or curate) run at `run_path` and its reviews; return it."""
    run_path = Path(run_path)
    if (run_path / "dpo.parquet").exists():
        return _apply_to_pairs(run_path, review_files, out)
    if (run_path / "kept.parquet").exists():
        return apply_to_curate(run_path, review_files, out)
    raise InputError("not a pairs or curate run folder (no dpo.parquet or kept.parquet); apply-review takes a "
                     "finished `alignsmith pairs` or `alignsmith curate` run", path=str(run_path))


def load_reviewed(run_path: Path, rows_name: str, review_files: list) -> tuple[list[dict], list[dict], list[str], dict]:
    """(review records, rows, item ids, decisions per item), checking that every reviewed item exists."""
    records = read_reviews_for(run_path, review_files)
    rows = read_parquet(run_path / rows_name)
    ids = [item_id(r) for r in rows]  # once per row: a hash each, seconds on 100k pairs
    known = set(ids)
    decisions = latest_by_item(records)
    for iid in decisions:
        if iid not in known:
            first = next(r for r in records if r["item_id"] == iid)
            raise InputError(f"item {iid!r} is not in {run_path / rows_name} (the run has {len(ids)} items); was "
                             "the reviews file written for an older build of this run?", path=first["_file"],
                             line=first["_line"], field="item_id")
    return records, rows, ids, decisions


def _source_config(run_path: Path, review_files: list) -> dict:
    return {"source_run": str(run_path.resolve()), "source_fingerprint": run_fingerprint(run_path),
            "reviews": [str(Path(f).resolve()) for f in review_files], "step": "apply-review"}


def _apply_to_pairs(run_path: Path, review_files: list, out) -> RunFolder:
    records, rows, ids, decisions = load_reviewed(run_path, "dpo.parquet", review_files)
    kept, rejected = [], []
    for iid, row in zip(ids, rows):
        new, why = reviewed_row({**row, "pair_id": iid}, decisions.get(iid))
        (kept if why is None else rejected).append(new if why is None else {**new, "drop_reason": why})
    run = RunFolder.open("pairs", _source_config(run_path, review_files), out)
    write_parquet(run.file("dpo.parquet"), kept)
    dropped_file = run_path / "dropped_pairs.parquet"
    dropped = read_parquet(dropped_file) if dropped_file.exists() else []
    write_parquet(run.file("dropped_pairs.parquet"), dropped + rejected)
    for name in CARRIED:
        if (run_path / name).exists():
            shutil.copyfile(run_path / name, run.file(name))
    card = reviewed_card(run_path, kept, rejected, records, decisions)
    write_json(run.file("card.json"), card)
    run.file("card.md").write_text(card_markdown(card) + review_markdown(card["review"]), encoding="utf-8")
    run.write_metrics(pairs_metrics(card))
    run.mark_done()
    return run


def apply_to_curate(run_path: Path, review_files: list, out) -> RunFolder:
    """A new curate run: rejected rows move to dropped.parquet with the reviewer's reason, edited responses
    replace the old ones; report.json gains a `review` funnel step and section. Swaps and labels need a pair."""
    records, rows, ids, decisions = load_reviewed(run_path, "kept.parquet", review_files)
    kept, rejected = [], []
    for iid, row in zip(ids, rows):
        entry = decisions.get(iid)
        new = {**row, "review_item_id": iid, "review_decision": "unreviewed", "review_reviewers": []}
        if entry:
            wrong = list(entry["labels"].values()) + [e for side, e in entry["edits"].items() if side != "response"]
            wrong += [entry["verdict"]] if entry["verdict"] and entry["verdict"]["decision"] == "swap" else []
            if wrong:
                r = min(wrong, key=lambda x: x["_line"])
                raise InputError(f"{r['decision']} needs a pair; a curate row has one response", path=r["_file"],
                                 line=r["_line"], field="decision")
            new["review_reviewers"] = list(entry["reviewers"])
            if "response" in entry["edits"]:
                new["response"] = entry["edits"]["response"]["edit"]["text"]
            verdict = entry["verdict"]
            new["review_decision"] = verdict["decision"] if verdict else "edited"
            if verdict and verdict["decision"] == "reject":
                rejected.append({**new, "drop_reason": f"review: rejected by {verdict['reviewer']}: {verdict['reason']}"})
                continue
        kept.append(new)
    run = RunFolder.open("curate", _source_config(run_path, review_files), out)
    write_parquet(run.file("kept.parquet"), kept)
    dropped = read_parquet(run_path / "dropped.parquet") if (run_path / "dropped.parquet").exists() else []
    write_parquet(run.file("dropped.parquet"), dropped + rejected)
    report_file = run_path / "report.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {}
    review = {"source_run": str(run_path.resolve()), "records": len(records), "items_reviewed": len(decisions),
              "rows_in": len(rows), "outcome": dict(sorted(Counter(r["review_decision"] for r in kept + rejected).items())),
              "reviewers": {n: dict(sorted(c.items())) for n, c in sorted(_per_reviewer(records).items())}}
    if isinstance(report.get("funnel"), list):
        report["funnel"] = report["funnel"] + [funnel_entry("review", "review", len(rows), len(rejected))]
    report.update(review=review, kept=len(kept))
    write_json(run.file("report.json"), report)
    run.write_metrics(funnel_metrics(int(report.get("rows_in") or len(rows)), len(kept)))
    run.mark_done()
    return run


def _per_reviewer(records: list[dict]) -> dict[str, Counter]:
    per_reviewer: dict[str, Counter] = {}
    for r in records:
        per_reviewer.setdefault(r["reviewer"], Counter())[r["decision"]] += 1
    return per_reviewer


def reviewed_row(row: dict, entry: dict | None) -> tuple[dict, str | None]:
    """The pair after its reviews, and a drop reason when a reviewer rejected it (else None)."""
    out = {**row, "review_decision": "unreviewed", "review_reviewers": [], "review_edited": [],
           "human_labels": []}
    if entry is None:
        return out, None
    out["review_reviewers"] = list(entry["reviewers"])
    out["human_labels"] = [{"reviewer": r["reviewer"], "label": r["label"]} for r in entry["labels"].values()]
    for side, edit in entry["edits"].items():
        if side not in ("chosen", "rejected"):
            raise InputError(f"edit of side {side!r} on a pair (use chosen or rejected)", path=edit["_file"],
                             line=edit["_line"], field="edit")
        out[side] = [{"role": "assistant", "content": edit["edit"]["text"]}]
        out[f"{side}_chars"] = len(edit["edit"]["text"])
        out["review_edited"].append(side)
    verdict = entry["verdict"]
    decision = verdict["decision"] if verdict else ("edited" if entry["edits"] else "labelled")
    out["review_decision"] = decision
    if decision == "swap":
        for suffix in SIDE_COLUMNS:
            if f"chosen{suffix}" in out or f"rejected{suffix}" in out:
                out[f"chosen{suffix}"], out[f"rejected{suffix}"] = out.get(f"rejected{suffix}"), out.get(f"chosen{suffix}")
        if out.get("margin") is not None:
            out["margin"] = -float(out["margin"])
        out["review_edited"] = [{"chosen": "rejected", "rejected": "chosen"}[s] for s in out["review_edited"]]
    if decision == "reject":
        return out, f"review: rejected by {verdict['reviewer']}: {verdict['reason']}"
    return out, None


def reviewed_card(run_path: Path, kept: list[dict], rejected: list[dict], records: list[dict],
                  decisions: dict[str, dict]) -> dict:
    """The source card with pairs_out, margins and length share recomputed and a `review` section."""
    card_file = run_path / "card.json"
    card = json.loads(card_file.read_text(encoding="utf-8")) if card_file.exists() else {"stages": {}, "judge": {}, "config": {}}
    stages = dict(card.get("stages") or {})
    stages["pairs_out"] = len(kept)
    stages.setdefault("prompts_in", len({r.get("prompt_id") for r in kept + rejected}))
    stages.setdefault("sft_rows", 0)
    # A card written before issue 15 has drop counts per reason instead of funnels: rebuild them from those.
    card.setdefault("candidates_funnel", funnel_from_counts(stages.get("candidates_in", 0),
                                                            stages.pop("candidates_dropped", None) or {}, "reason"))
    card.setdefault("pairs_funnel", funnel_from_counts(stages.get("pairs_proposed", 0),
                                                       stages.pop("pairs_dropped", None) or {}, "rule"))
    card["pairs_funnel"] = card["pairs_funnel"] + [funnel_entry("review", "review", len(kept) + len(rejected),
                                                                len(rejected))]
    card.update(stages=stages, margin_histogram=margin_histogram([float(p["margin"]) for p in kept
                                                                  if p.get("margin") is not None]),
                chosen_longer_share=sum(chosen_is_longer(p) for p in kept) / len(kept) if kept else None)
    card.setdefault("judge", {})
    card.setdefault("pairs_per_prompt", {})
    card.setdefault("per_category", {})
    card.setdefault("chosen_longer_cap", None)
    card.setdefault("similarity", "n/a")
    card.setdefault("config", {})
    outcome = Counter(r["review_decision"] for r in kept) + Counter(r["review_decision"] for r in rejected)
    per_reviewer = _per_reviewer(records)
    conflicts = sum(len(set(e["verdicts"].values())) > 1 for e in decisions.values())
    card["review"] = {"source_run": str(run_path.resolve()), "records": len(records),
                      "items_reviewed": len(decisions), "pairs_in": len(kept) + len(rejected),
                      "outcome": dict(sorted(outcome.items())),
                      "edited_pairs": sum(bool(r["review_edited"]) for r in kept + rejected),
                      "labelled_pairs": sum(bool(r["human_labels"]) for r in kept + rejected),
                      "verdict_conflicts": conflicts,
                      "reviewers": {name: dict(sorted(c.items())) for name, c in sorted(per_reviewer.items())}}
    return card


def review_markdown(review: dict) -> str:
    """The card.md section about the human review."""
    lines = ["## Human review", "",
             f"Applied {review['records']} review records on {review['items_reviewed']} of {review['pairs_in']} "
             f"pairs of `{review['source_run']}` (the latest verdict per pair counts; "
             f"{review['verdict_conflicts']} pairs had reviewers disagree).", "",
             "| outcome | pairs |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in review["outcome"].items()]
    lines += ["", f"Edited pairs: {review['edited_pairs']}; pairs with blind labels: {review['labelled_pairs']}.", "",
              "| reviewer | records by decision |", "|---|---|"]
    lines += [f"| {name} | " + ", ".join(f"{k} {v}" for k, v in c.items()) + " |"
              for name, c in review["reviewers"].items()]
    return "\n".join(lines) + "\n"
