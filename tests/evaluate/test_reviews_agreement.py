"""Agreement between reviewers and with the judge, gold export, and `alignsmith reviews agreement`."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from alignsmith.curate.core.datafiles import read_parquet
from alignsmith.evaluate.reviews import (
    agreement_with,
    append_review,
    cohen_kappa,
    gold_rows,
    item_id,
    judge_labels,
    make_review,
    read_reviews,
    reviewer_agreement,
    reviews_path,
)
from alignsmith.train.cli import main


def test_kappa_matches_the_textbook_example_and_statsmodels():
    # Wikipedia's worked example (Cohen's kappa): 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    out = cohen_kappa(a, b, ["yes", "no"])
    assert out["kappa"] == pytest.approx(0.4) and out["confusion"] == [[20, 5], [10, 15]]
    assert out["observed_agreement"] == pytest.approx(0.7)
    from statsmodels.stats.inter_rater import cohens_kappa
    rng = random.Random(3)
    cats = ["chosen", "rejected", "tie"]
    x = [rng.choice(cats) for _ in range(200)]
    y = [v if rng.random() < 0.6 else rng.choice(cats) for v in x]
    ours = cohen_kappa(x, y, cats)
    assert ours["kappa"] == pytest.approx(cohens_kappa(np.array(ours["confusion"])).kappa, abs=1e-12)
    assert cohen_kappa(["tie", "tie"], ["tie", "tie"], cats)["kappa"] is None  # undefined, not 0 or nan
    assert cohen_kappa([], [], cats)["n"] == 0


def build_run(folder: Path) -> Path:
    from alignsmith.curate.core.records import candidate_id, make_prompt_row
    from alignsmith.curate.pairs.build import build_pairs
    from alignsmith.curate.pairs.export import write_pairs_run
    prompts, candidates = [], []
    for i in range(12):
        p = make_prompt_row(f"Prompt {i}: say hi.", category="c")
        prompts.append(p)
        for j, s in enumerate((0.9, 0.2)):
            candidates.append({"prompt_id": p["prompt_id"], "candidate_id": candidate_id(p["prompt_id"], j, "m", 0),
                               "response": f"reply {j} of {i}", "scores": {"s": s}})
    result = build_pairs(candidates, prompts, {"scorers": {}, "weights": {"s": 1.0}, "max_similarity": None,
                                               "max_chosen_longer_share": None})
    # The LLM judge's both-orders verdicts, as the judge scorer records them (first = chosen here).
    result.judgements = [{"kind": "pairwise", "prompt_id": p["prompt_id"], "first_id": p["chosen_id"],
                          "second_id": p["rejected_id"], "verdict": ("first", "second", "tie", "inconsistent")[k % 4]}
                         for k, p in enumerate(result.pairs)]
    return write_pairs_run(result, out=folder).path


@pytest.fixture
def labelled(tmp_path):
    run = build_run(tmp_path / "runs" / "pairs" / "r1")
    rows = read_parquet(run / "dpo.parquet")
    ids = [item_id(r) for r in rows]
    ann = ["chosen"] * 6 + ["rejected"] * 4 + ["tie"] * 2
    bob = ["chosen"] * 5 + ["rejected"] * 5 + ["tie", "chosen"]
    path = reviews_path(run)
    for k, iid in enumerate(ids):
        for who, labels in (("ann", ann), ("bob", bob)):
            order = ["chosen", "rejected"] if (k + len(who)) % 2 else ["rejected", "chosen"]
            shown = "tie" if labels[k] == "tie" else "AB"[order.index(labels[k])]
            append_review(path, make_review(run, iid, who, "label", label=labels[k], shown_order=order,
                                            shown_label=shown, order_seed=k))
    return run, rows, ids, ann, bob, path


def test_reviewer_agreement_pairs_labels_on_shared_items(labelled):
    from sklearn.metrics import cohen_kappa_score
    run, rows, ids, ann, bob, path = labelled
    records = read_reviews(path)
    (entry,) = reviewer_agreement(records, "label")
    assert (entry["a"], entry["b"], entry["n"]) == ("ann", "bob", 12)
    assert entry["kappa"] == pytest.approx(cohen_kappa_score(ann, bob))
    assert entry["confusion"] == [[5, 1, 0], [0, 4, 0], [1, 0, 1]]  # rows ann, columns bob: chosen/rejected/tie
    judge = judge_labels(run)
    assert len(judge) == 9 and judge[ids[1]] == "rejected" and ids[3] not in judge  # no verdict: left out
    vs = {e["a"]: e for e in agreement_with(records, judge, "judge")}
    shared = [k for k in range(12) if k % 4 != 3]
    expected = [("chosen", "rejected", "tie")[k % 4] for k in shared]
    assert vs["ann"]["kappa"] == pytest.approx(cohen_kappa_score([ann[k] for k in shared], expected))


def test_gold_rows_follow_the_order_the_reviewer_saw(labelled):
    run, rows, ids, ann, bob, path = labelled
    gold, left_out = gold_rows(run, read_reviews(path), ties=True)
    # Two reviewers: items where they differ have no strict majority and are left out.
    assert left_out == {"no_majority": sum(x != y for x, y in zip(ann, bob)), "ties": 0}
    assert len(gold) == 12 - left_out["no_majority"]
    for g in gold:
        row = rows[ids.index(g["item_id"])]
        human = ann[ids.index(g["item_id"])]
        texts = {"A": g["response_a"], "B": g["response_b"]}
        if g["label"] != "tie":
            assert texts[g["label"]] == row[human][0]["content"] == g["chosen"]
            assert g["rejected"] == row["rejected" if human == "chosen" else "chosen"][0]["content"]
        else:
            assert "chosen" not in g
        assert g["prompt"] == row["prompt"][-1]["content"]
    assert {g["label"] for g in gold} >= {"A", "B"}  # randomised order: not every gold label is "A"
    without_ties, left_out = gold_rows(run, read_reviews(path))
    assert left_out["ties"] == 1 and all(g["label"] != "tie" for g in without_ties)


def test_agreement_command_prints_tables_and_writes_gold(labelled, tmp_path, capsys):
    run, rows, ids, ann, bob, path = labelled
    gold = tmp_path / "gold.jsonl"
    assert main(["reviews", "agreement", "--reviews", str(path), "--gold-out", str(gold)]) == 0
    out = capsys.readouterr().out
    assert "label: ann vs bob: n=12" in out and "vs judge: ann vs judge: n=9" in out
    assert len(gold.read_text().splitlines()) == 9 and set(json.loads(gold.read_text().splitlines()[0])) >= {
        "prompt", "chosen", "rejected", "response_a", "response_b", "label"}
    from alignsmith.evaluate.judge_card import read_gold  # the judge card's own reader takes the file
    items = read_gold(str(gold))
    preferred = {r["chosen"][0]["content"] if a == "chosen" else r["rejected"][0]["content"]
                 for r, a, b in zip(rows, ann, bob) if a == b and a != "tie"}
    assert len(items) == 9 and {it["better"] for it in items} == preferred
    other = build_run(tmp_path / "runs" / "pairs" / "r2")
    assert main(["reviews", "agreement", "--reviews", str(path), "--run", str(other)]) == 2
    assert "is for run 'r1'" in capsys.readouterr().err
