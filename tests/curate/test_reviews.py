"""Human reviews of a pairs run: the reviews file (locked appends, validation), apply-review, sample-audit."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from alignsmith.curate.core.datafiles import read_parquet
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.pairs.review_apply import apply_reviews
from alignsmith.curate.pairs.review_audit import allocate, sample_for_audit
from alignsmith.curate.pairs.reviews import (
    append_review,
    item_id,
    make_review,
    read_reviews,
    read_reviews_for,
    reviews_path,
)
from alignsmith.train.cli import main


def build_pairs_run(folder: Path, n_prompts: int = 8, tag: str = "") -> Path:
    """A real pairs run (build_pairs + write_pairs_run) over candidates that carry a score already."""
    from alignsmith.curate.core.records import candidate_id, make_prompt_row
    from alignsmith.curate.pairs.build import build_pairs
    from alignsmith.curate.pairs.export import write_pairs_run
    prompts, candidates = [], []
    for i in range(n_prompts):
        p = make_prompt_row(f"Question {i}{tag}: name a colour.", category=("easy", "hard")[i % 2], source="t")
        prompts.append(p)
        for j, score in enumerate((0.9, 0.5, 0.1 + 0.05 * i)):
            candidates.append({"prompt_id": p["prompt_id"], "candidate_id": candidate_id(p["prompt_id"], j, "m", 0),
                               "response": f"answer {j} to {i}: " + "blue " * (j + 1), "scores": {"s": score}})
    result = build_pairs(candidates, prompts, {"scorers": {}, "weights": {"s": 1.0}, "strategy": "best_vs_worst",
                                               "max_chosen_longer_share": None, "max_similarity": None})
    return write_pairs_run(result, out=folder).path


@pytest.fixture
def pairs_run(tmp_path) -> Path:
    return build_pairs_run(tmp_path / "runs" / "pairs" / "20260101T000000Z-src")


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reviews_file_sits_beside_the_run_and_round_trips(pairs_run):
    path = reviews_path(pairs_run)
    assert path.parent == pairs_run.parent and path.name == pairs_run.name + ".reviews.jsonl"
    rows = read_parquet(pairs_run / "dpo.parquet")
    record = make_review(pairs_run, item_id(rows[0]), "ann", "reject", reason="off topic")
    append_review(path, record)
    back = read_reviews(path)
    assert [(r["reviewer"], r["decision"], r["reason"], r["_line"]) for r in back] == [("ann", "reject", "off topic", 1)]
    with pytest.raises(InputError, match="beside a run folder"):
        append_review(pairs_run / "reviews.jsonl", record)
    assert not (pairs_run / "reviews.jsonl").exists()


def test_bad_records_are_refused_with_file_line_and_field(pairs_run, tmp_path):
    iid = item_id(read_parquet(pairs_run / "dpo.parquet")[0])
    with pytest.raises(InputError, match="field 'reason': a rejection needs a reason"):
        make_review(pairs_run, iid, "ann", "reject")
    with pytest.raises(InputError, match="field 'shown_order'"):
        make_review(pairs_run, iid, "ann", "label", label="chosen")
    with pytest.raises(InputError, match="field 'decision'"):
        make_review(pairs_run, iid, "ann", "maybe")
    with pytest.raises(InputError, match="field 'reviewer': missing"):
        make_review(pairs_run, iid, "  ", "accept")
    good = json.dumps(make_review(pairs_run, iid, "ann", "accept"))
    bad = tmp_path / "bad.reviews.jsonl"
    bad.write_text(good + "\n" + good.replace('"accept"', '"acept"') + "\n")
    with pytest.raises(InputError, match=r"bad.reviews.jsonl:2: field 'decision'"):
        read_reviews(bad)
    bad.write_text(good + "\n{not json\n" + good + "\n")
    with pytest.raises(InputError, match=r"bad.reviews.jsonl:2: not a JSON line"):
        read_reviews(bad)
    bad.write_text(good + "\n" + good[:40])  # a writer is still appending the last line
    assert len(read_reviews(bad)) == 1


WRITER = """
import sys
from alignsmith.curate.pairs.reviews import append_review, make_review
run, out, who, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for i in range(n):
    # 64 KiB edits: far above PIPE_BUF, so only the lock keeps lines whole
    append_review(out, make_review(run, f"item-{i}", who, "edit", edit={"side": "chosen", "text": f"{who}{i} " * 8000}))
"""


def test_two_processes_appending_at_once_lose_and_mix_nothing(pairs_run):
    path = reviews_path(pairs_run)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(pairs_run), str(path), who, "150"])
             for who in ("ann", "bob")]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    records = read_reviews(path)  # every line parses and validates
    assert Counter(r["reviewer"] for r in records) == {"ann": 150, "bob": 150}
    for who in ("ann", "bob"):
        mine = [r for r in records if r["reviewer"] == who]
        assert [r["item_id"] for r in mine] == [f"item-{i}" for i in range(150)]  # each writer's order kept
        assert all(r["edit"]["text"] == f"{who}{i} " * 8000 for i, r in enumerate(mine))


def review_all(run: Path, path: Path) -> list[dict]:
    rows = read_parquet(run / "dpo.parquet")
    ids = [item_id(r) for r in rows]
    plan = [make_review(run, ids[0], "ann", "reject", reason="both answers are wrong"),
            make_review(run, ids[1], "ann", "swap"),
            make_review(run, ids[2], "bob", "edit", edit={"side": "chosen", "text": "Blue, fixed by Bob."}),
            make_review(run, ids[2], "bob", "accept"),
            make_review(run, ids[3], "ann", "label", label="rejected", shown_order=["rejected", "chosen"],
                        shown_label="A", order_seed=7),
            make_review(run, ids[4], "ann", "reject", reason="unsure"),
            make_review(run, ids[4], "bob", "accept")]  # the latest verdict wins
    for record in plan:
        append_review(path, record)
    return rows


def test_apply_review_writes_a_new_run_and_leaves_the_source_untouched(pairs_run, tmp_path):
    rows = review_all(pairs_run, reviews_path(pairs_run))
    before = tree_digest(pairs_run)
    out = tmp_path / "runs" / "pairs" / "reviewed"
    assert main(["pairs", "apply-review", str(pairs_run), "--out", str(out)]) == 0
    assert tree_digest(pairs_run) == before
    assert (out / "DONE").exists()
    new = {r["pair_id"]: r for r in read_parquet(out / "dpo.parquet")}
    ids = [item_id(r) for r in rows]
    assert ids[0] not in new and len(new) == len(rows) - 1
    dropped = [r for r in read_parquet(out / "dropped_pairs.parquet") if r.get("pair_id") == ids[0]]
    assert dropped[0]["drop_reason"] == "review: rejected by ann: both answers are wrong"
    swapped = new[ids[1]]
    assert swapped["chosen"] == rows[1]["rejected"] and swapped["rejected"] == rows[1]["chosen"]
    assert swapped["chosen_id"] == rows[1]["rejected_id"] and swapped["margin"] == pytest.approx(-rows[1]["margin"])
    assert (swapped["chosen_score"], swapped["rejected_score"]) == (rows[1]["rejected_score"], rows[1]["chosen_score"])
    assert new[ids[2]]["chosen"][0]["content"] == "Blue, fixed by Bob." and new[ids[2]]["review_edited"] == ["chosen"]
    assert new[ids[3]]["human_labels"] == [{"reviewer": "ann", "label": "rejected"}]
    assert new[ids[4]]["review_decision"] == "accept" and new[ids[5]]["review_decision"] == "unreviewed"
    card = json.loads((out / "card.json").read_text())
    assert card["stages"]["pairs_out"] == len(rows) - 1
    assert card["pairs_funnel"][-1] == {"step": "review", "kind": "review", "rows_in": len(rows), "dropped": 1,
                                        "rows_after": len(rows) - 1, "seconds": None, "rows_per_s": None}
    review = card["review"]
    assert review["outcome"] == {"accept": 2, "labelled": 1, "reject": 1, "swap": 1, "unreviewed": len(rows) - 5}
    assert review["reviewers"] == {"ann": {"label": 1, "reject": 2, "swap": 1}, "bob": {"accept": 2, "edit": 1}}
    assert review["verdict_conflicts"] == 1
    assert "## Human review" in (out / "card.md").read_text()


def test_apply_review_on_a_card_from_before_funnels_writes_funnels(pairs_run, tmp_path):
    """A pairs card written before issue 15 kept drops as `{reason: n}` in its stages; the reviewed card
    has them as funnels (the one format), with the review step last, and the old keys are gone."""
    card_file = pairs_run / "card.json"
    card = json.loads(card_file.read_text())
    stages = card["stages"]
    stages["candidates_dropped"] = {e["step"]: e["dropped"] for e in card.pop("candidates_funnel")}
    stages["pairs_dropped"] = {e["step"]: e["dropped"] for e in card.pop("pairs_funnel")}
    stages["pairs_dropped"]["near_duplicate"] = 2  # a drop the fresh card does not have, of 2 more proposed
    stages["pairs_proposed"] += 2
    card_file.write_text(json.dumps(card))
    rows = read_parquet(pairs_run / "dpo.parquet")
    path = reviews_path(pairs_run)
    append_review(path, make_review(pairs_run, item_id(rows[0]), "ann", "reject", reason="x"))
    out = tmp_path / "reviewed"
    apply_reviews(pairs_run, [path], out)
    new = json.loads((out / "card.json").read_text())
    assert "pairs_dropped" not in new["stages"] and "candidates_dropped" not in new["stages"]
    funnel = new["pairs_funnel"]
    assert [(e["step"], e["dropped"]) for e in funnel][-2:] == [("near_duplicate", 2), ("review", 1)]
    assert funnel[0]["rows_in"] == stages["pairs_proposed"] and funnel[-2]["rows_after"] == len(rows)
    assert funnel[-1]["rows_in"] == len(rows) and funnel[-1]["rows_after"] == len(rows) - 1
    assert [(e["step"], e["dropped"]) for e in new["candidates_funnel"]] == list(stages["candidates_dropped"].items())
    assert "- near_duplicate: 2" in (out / "card.md").read_text()


def test_reviews_for_another_run_or_a_missing_item_are_clear_errors(pairs_run, tmp_path, capsys):
    other = build_pairs_run(tmp_path / "runs" / "pairs" / "other", tag=" (other)")
    foreign = reviews_path(other)
    append_review(foreign, make_review(other, item_id(read_parquet(other / "dpo.parquet")[0]), "ann", "accept"))
    with pytest.raises(InputError, match=r"other.reviews.jsonl:1: field 'run_fingerprint': this review is for run 'other'"):
        read_reviews_for(pairs_run, [foreign])
    assert main(["pairs", "apply-review", str(pairs_run), "--reviews", str(foreign)]) == 2
    assert "is for run 'other'" in capsys.readouterr().err
    stale = reviews_path(pairs_run)
    append_review(stale, make_review(pairs_run, "pr-0000000000000000", "ann", "accept"))
    with pytest.raises(InputError, match=r"src.reviews.jsonl:1: field 'item_id': item 'pr-0000000000000000' is not in"):
        apply_reviews(pairs_run, [stale], tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing that looks finished (or started)
    assert main(["pairs", "apply-review", str(tmp_path / "nope"), "--reviews", str(stale)]) == 2


def test_allocate_is_proportional_with_one_per_stratum():
    assert allocate({"a": 80, "b": 15, "c": 5}, 10) == {"a": 7, "b": 2, "c": 1}
    assert allocate({"a": 2, "b": 1}, 10) == {"a": 2, "b": 1}  # never more than a stratum holds
    assert sum(allocate({"a": 50, "b": 30, "c": 20, "d": 1}, 2).values()) == 2


def test_sample_audit_covers_every_category_and_margin_band(pairs_run, tmp_path, capsys):
    rows = read_parquet(pairs_run / "dpo.parquet")
    picked = sample_for_audit(rows, 4, seed=1, bands=2)
    strata = {p["stratum"] for p in picked}
    assert len(picked) == 4 and len(strata) == 4  # 2 categories x 2 margin bands, one each
    assert {s.split(" |")[0] for s in strata} == {"easy", "hard"}
    assert [p["item_id"] for p in sample_for_audit(list(reversed(rows)), 4, seed=1, bands=2)] == \
           [p["item_id"] for p in picked]  # input order does not change the draw
    assert main(["pairs", "sample-audit", str(pairs_run), "--n", "3"]) == 0
    written = [json.loads(x) for x in (pairs_run.parent / f"{pairs_run.name}.audit.jsonl").read_text().splitlines()]
    assert len(written) == 3 and "3 pairs" in capsys.readouterr().out
    assert main(["pairs", "sample-audit", str(pairs_run), "--n", "0"]) == 2


def test_bare_pairs_command_still_parses_its_flags():
    from alignsmith.train.cli import build_parser
    args = build_parser().parse_args(["pairs", "--input", "x.jsonl", "--min-margin", "0.2"])
    assert args.pairs_action is None and args.input == "x.jsonl" and args.func.__name__ == "run"


def test_apply_review_on_a_curate_run_drops_and_edits_rows(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"Say something about {w}.", "response": f"{w} is a colour.",
                                       "finish_reason": "stop"}) + "\n" for w in ("red", "green", "blue", "grey")))
    curate = tmp_path / "runs" / "curate" / "c1"
    assert main(["curate", "--input", str(src), "--out", str(curate)]) == 0
    rows = read_parquet(curate / "kept.parquet")
    ids = [item_id(r) for r in rows]
    path = reviews_path(curate)
    append_review(path, make_review(curate, ids[0], "ann", "reject", reason="not an answer"))
    append_review(path, make_review(curate, ids[1], "ann", "edit", edit={"side": "response", "text": "Green: fixed."}))
    before = tree_digest(curate)
    out = tmp_path / "runs" / "curate" / "reviewed"
    assert main(["pairs", "apply-review", str(curate), "--out", str(out)]) == 0
    assert tree_digest(curate) == before and "2 of 4 rows" in capsys.readouterr().out
    kept = {item_id(r): r for r in read_parquet(out / "kept.parquet")}
    assert ids[0] not in kept and kept[ids[1]]["response"] == "Green: fixed."  # the id survives the edit
    dropped = [r for r in read_parquet(out / "dropped.parquet") if r.get("review_item_id") == ids[0]]
    assert dropped[0]["drop_reason"] == "review: rejected by ann: not an answer"
    report = json.loads((out / "report.json").read_text())
    assert report["funnel"][-1] == {"step": "review", "kind": "review", "rows_in": 4, "dropped": 1, "rows_after": 3,
                                    "seconds": None, "rows_per_s": None}
    append_review(path, make_review(curate, ids[2], "bob", "swap"))
    with pytest.raises(InputError, match=r"c1.reviews.jsonl:3: field 'decision': swap needs a pair"):
        apply_reviews(curate, [path], tmp_path / "never")
