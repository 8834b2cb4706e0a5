"""The Review page under Streamlit's AppTest: screening actions, blind labels, progress, bad input."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alignsmith.curate.core.datafiles import read_parquet
from alignsmith.curate.pairs.review_apply import apply_reviews
from alignsmith.evaluate.reviews import item_id, read_reviews, reviews_path

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


@pytest.fixture
def runs(dashboard_runs, tmp_path) -> Path:
    """A private copy of the fixture's pairs and curate runs (reviews files are written beside them)."""
    root = tmp_path / "runs"
    for kind in ("pairs", "curate"):
        shutil.copytree(dashboard_runs / kind, root / kind)
    return root


def open_review(runs: Path, monkeypatch, run_label: str | None = None) -> AppTest:
    monkeypatch.setenv("ALIGNSMITH_RUNS", str(runs))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at = at.switch_page("page_review.py").run()
    if run_label:
        at.selectbox(key="rv-run").set_value(run_label).run()
    return at


def texts(at: AppTest) -> str:
    return "\n".join(str(t.value) for t in at.text)


def pairs_run(runs: Path) -> Path:
    return next((runs / "pairs").iterdir())


def test_review_page_lists_runs_and_shows_one_item_as_text(runs, monkeypatch):
    at = open_review(runs, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Review"
    assert {o.split("/")[0] for o in at.selectbox(key="rv-run").options} == {"pairs", "curate"}
    rows = read_parquet(pairs_run(runs) / "dpo.parquet")
    assert at.number_input(key="rv-item").max == len(rows)
    shown = [c.value for c in at.code]
    assert rows[0]["chosen"][0]["content"] in shown and rows[0]["rejected"][0]["content"] in shown
    assert "why this pair: strategy best_vs_worst; margin" in texts(at)
    markdown = "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)
    assert "<script" not in markdown and "onerror" not in markdown
    assert "0 of %d items reviewed" % len(rows) in at.get("progress")[0].proto.text


def test_screening_actions_write_reviews_that_apply_review_uses(runs, monkeypatch, tmp_path):
    run = pairs_run(runs)
    rows = read_parquet(run / "dpo.parquet")
    ids = [item_id(r) for r in rows]
    at = open_review(runs, monkeypatch)
    at.button(key="rv-accept").click().run()  # no name yet: refused, nothing written
    assert "field 'reviewer': missing" in texts(at) and not reviews_path(run).exists()
    at.text_input(key="rv-reviewer").set_value("ann").run()
    at.button(key="rv-accept").click().run()
    assert at.number_input(key="rv-item").value == 2  # moved on
    at.button(key="rv-reject").click().run()  # a rejection needs a reason
    assert "a rejection needs a reason" in texts(at) and at.number_input(key="rv-item").value == 2
    at.text_input(key=f"rv-reason-{ids[1]}").set_value("chosen ignores the word limit").run()
    at.button(key="rv-reject").click().run()
    at.button(key="rv-swap").click().run()
    at.text_area(key=f"rv-edit-chosen-{ids[3]}").set_value("A corrected answer.").run()
    at.button(key="rv-save-chosen").click().run()
    assert not at.exception, [e.value for e in at.exception]
    records = read_reviews(reviews_path(run))
    assert [(r["item_id"], r["decision"], r["reviewer"]) for r in records] == [
        (ids[0], "accept", "ann"), (ids[1], "reject", "ann"), (ids[2], "swap", "ann"), (ids[3], "edit", "ann")]
    assert records[1]["reason"] == "chosen ignores the word limit"
    assert records[3]["edit"] == {"side": "chosen", "text": "A corrected answer."}
    assert "4 of %d items reviewed" % len(rows) in at.get("progress")[0].proto.text
    new = apply_reviews(run, [reviews_path(run)], tmp_path / "applied").path
    applied = {r["pair_id"]: r for r in read_parquet(new / "dpo.parquet")}
    assert ids[1] not in applied and applied[ids[2]]["chosen"] == rows[2]["rejected"]
    assert applied[ids[3]]["chosen"][0]["content"] == "A corrected answer."


def test_blind_labels_hide_scores_and_record_the_seeded_order(runs, monkeypatch):
    from alignsmith.dashboards.review_logic import blind_order
    run = pairs_run(runs)
    rows = read_parquet(run / "dpo.parquet")
    ids = [item_id(r) for r in rows]
    at = open_review(runs, monkeypatch)
    at.text_input(key="rv-reviewer").set_value("bob").run()
    at.radio(key="rv-mode").set_value("blind label").run()
    at.number_input(key="rv-seed").set_value(7).run()
    assert not any("score" in str(c.value) for c in at.caption)  # no score labels in blind mode
    order = blind_order(7, "bob", ids[0])
    shown = [c.value for c in at.code][1:3]  # after the prompt: answer A, answer B
    assert shown == [rows[0][order[0]][0]["content"], rows[0][order[1]][0]["content"]]
    at.button(key="rv-label-A").click().run()
    at.button(key="rv-label-tie").click().run()
    records = read_reviews(reviews_path(run))
    assert records[0]["shown_order"] == order and records[0]["shown_label"] == "A"
    assert records[0]["label"] == order[0] and records[0]["order_seed"] == 7
    assert records[1]["item_id"] == ids[1] and records[1]["label"] == "tie"
    orders = {tuple(blind_order(7, "bob", i)) for i in ids}
    assert len(orders) == 2  # both orders occur: the order is randomised, not fixed


def test_not_reviewed_filter_and_curate_runs(runs, monkeypatch):
    at = open_review(runs, monkeypatch)
    at.text_input(key="rv-reviewer").set_value("ann").run()
    at.button(key="rv-accept").click().run()
    at.selectbox(key="rv-show").set_value("not reviewed by me").run()
    total = len(read_parquet(pairs_run(runs) / "dpo.parquet"))
    assert at.number_input(key="rv-item").max == total - 1
    curate = next(o for o in at.selectbox(key="rv-run").options if o.startswith("curate/"))
    at.selectbox(key="rv-run").set_value(curate).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "rv-swap" not in [b.key for b in at.button]  # one answer per item: nothing to swap
    at.button(key="rv-reject").click().run()
    assert "a rejection needs a reason" in texts(at)


def test_a_damaged_reviews_file_is_reported_with_its_line(runs, monkeypatch):
    run = pairs_run(runs)
    at = open_review(runs, monkeypatch)
    at.text_input(key="rv-reviewer").set_value("ann").run()
    at.button(key="rv-accept").click().run()
    with open(reviews_path(run), "a", encoding="utf-8") as f:
        f.write('{"schema": "alignsmith.review/1", "decision": "accept"}\n')
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "or its reviews file could not be read" in at.error[0].value
    assert f"{reviews_path(run)}:2: field 'run': missing" in texts(at)


def test_blind_mode_hides_other_reviews_of_the_item(runs, monkeypatch):
    at = open_review(runs, monkeypatch)
    at.text_input(key="rv-reviewer").set_value("ann").run()
    at.button(key="rv-swap").click().run()
    at.button(key="rv-prev").click().run()
    assert len(at.dataframe) == 1  # the item's history, in screening mode
    at.radio(key="rv-mode").set_value("blind label").run()
    assert len(at.dataframe) == 0


def test_the_judge_verdict_of_the_pair_is_shown(runs, monkeypatch):
    import json
    run = pairs_run(runs)
    rows = read_parquet(run / "dpo.parquet")
    # A pairwise judge's both-orders verdict as the judge scorer records it (the run's fingerprint does not
    # cover judgements.jsonl, so adding one keeps the copy reviewable); the judge compared them rejected-first.
    (run / "judgements.jsonl").write_text(json.dumps(
        {"kind": "pairwise", "prompt_id": rows[0]["prompt_id"], "first_id": rows[0]["rejected_id"],
         "second_id": rows[0]["chosen_id"], "verdict": "first"}) + "\n")
    at = open_review(runs, monkeypatch)
    assert "judge verdict: rejected" in texts(at)
    at.button(key="rv-next").click().run()
    assert "judge verdict: none recorded" in texts(at)


def test_audit_sample_filter_pages_through_only_the_sampled_pairs(runs, monkeypatch):
    import json

    from alignsmith.train.cli import main
    run = pairs_run(runs)
    assert main(["pairs", "sample-audit", str(run), "--n", "5", "--seed", "3"]) == 0
    sampled = [json.loads(x)["item_id"] for x in (run.parent / f"{run.name}.audit.jsonl").read_text().splitlines()]
    at = open_review(runs, monkeypatch)
    at.selectbox(key="rv-show").set_value("audit sample").run()
    assert at.number_input(key="rv-item").max == 5
    seen = set()
    for _ in range(5):
        seen |= {t.value.split()[2] for t in at.text if str(t.value).startswith("item id ")}
        at.button(key="rv-next").click().run()
    assert seen == set(sampled)
