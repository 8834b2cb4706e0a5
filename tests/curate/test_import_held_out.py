"""`data import --exclude-gold`: a training set built from the HH-RLHF test files holds out exactly the judge
card's gold items (real HH-RLHF files; the card's own item list is the reference)."""
from __future__ import annotations

import json

import pytest

from alignsmith.curate.importers.held_out import HELD_OUT_REASON, gold_hold_out
from alignsmith.curate.importers.run import import_dataset
from alignsmith.evaluate.judge_card import judge_card

SPLITS = ("helpful-base", "harmless-base")


def _text(messages):
    return [(m["role"], m["content"].strip()) for m in messages]


@pytest.fixture(scope="module")
def card_gold(shared_data):
    """The gold items of a default card (`judge card --per-split 50`), as the card itself lists them."""
    from alignsmith.curate.judges.hh_pairs import hh_gold
    card, rows = judge_card("length:longer", data_root=shared_data / "hh_rlhf", per_split=50)
    names = [r["item"] for r in rows]
    texts = {it["item"]: it for it in hh_gold(shared_data / "hh_rlhf", per_split=50)}
    assert card["n_items"] == 100 and sorted(names) == sorted(texts)
    return texts


@pytest.mark.parametrize("split", SPLITS)
def test_exclude_gold_holds_out_exactly_the_card_gold(shared_data, tmp_path, card_gold, split):
    src = shared_data / "hh_rlhf" / split / "test.jsonl.gz"
    plain = import_dataset(src, "hh-rlhf", tmp_path / "plain")
    held = import_dataset(src, "hh-rlhf", tmp_path / "held",
                          hold_out=gold_hold_out("hh-rlhf", 50, shared_data / "hh_rlhf"))
    gold_lines = {int(name.split(":")[1]): it for name, it in card_gold.items() if name.startswith(split + ":")}
    assert len(gold_lines) == 50
    other_reasons = {q["line"]: q["drop_reason"] for q in plain.quarantine}
    held_rows = [q for q in held.quarantine if q["drop_reason"] == HELD_OUT_REASON]
    held_lines = {q["line"] for q in held_rows}
    # Every gold line is either held out or was never importable (skipped for its own reason, e.g. a reply
    # that holds a second "Assistant:" turn); nothing else is held out.
    assert held_lines == set(gold_lines) - set(other_reasons)
    assert {q["gold_item"] for q in held_rows} == {f"{split}:{n}" for n in held_lines}
    assert len(plain.pairs) - len(held.pairs) == len(held_lines) and len(held.sft) == len(plain.sft) - len(held_lines)
    # Independently of the item key: no kept pair has a gold prompt with the gold's two answers.
    gold_texts = {(it["prompt"][0]["content"].strip(), frozenset((it["better"].strip(), it["worse"].strip())))
                  for it in gold_lines.values()}
    for pair in held.pairs:
        if len(pair["prompt"]) == 1:
            key = (pair["prompt"][0]["content"].strip(),
                   frozenset((pair["chosen"][-1]["content"].strip(), pair["rejected"][-1]["content"].strip())))
            assert key not in gold_texts, pair["line"]
    assert held.held_out["held_out"] == len(held_lines) and held.held_out["gold_items"] == 100
    card = json.loads((tmp_path / "held" / "card.json").read_text())
    assert card["held_out"]["gold_items_found"] == len(held_lines)
    config = (tmp_path / "held" / "config.yaml").read_text()
    assert "exclude_gold" in config and "exclude_gold" not in (tmp_path / "plain" / "config.yaml").read_text()


def test_a_wider_hold_out_covers_cards_that_skip(shared_data):
    """--gold-per-split 300 holds out every item of `judge card --skip 50 --per-split 250` (the held-out slice)."""
    from alignsmith.curate.core.gold_pairs import pair_item_key
    from alignsmith.curate.judges.hh_pairs import hh_gold
    wide = gold_hold_out("hh-rlhf", 300, shared_data / "hh_rlhf")
    later = hh_gold(shared_data / "hh_rlhf", per_split=250, skip=50)
    assert len(later) == 500 and len(wide.items) == 600
    assert all(pair_item_key(it["prompt"], it["better"], it["worse"]) in wide.items for it in later)


def test_gold_file_is_held_out_in_either_label_order(tmp_path, capsys):
    from alignsmith.train.cli import main
    src = tmp_path / "hh.jsonl"
    dialogue = "\n\nHuman: {q}\n\nAssistant: {a}"
    rows = [{"chosen": dialogue.format(q=f"Question {i}?", a=f"Good answer {i}."),
             "rejected": dialogue.format(q=f"Question {i}?", a=f"Bad answer {i}.")} for i in range(6)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(g) for g in [
        {"prompt": "Question 1?", "chosen": "Good answer 1.", "rejected": "Bad answer 1."},
        # Same item with the labels swapped (and other spacing): still the same item.
        {"prompt": "Question  4?", "chosen": "Bad answer 4.", "rejected": "Good  answer 4."},
        {"prompt": "Not in the file", "chosen": "x", "rejected": "y"},
        # Same prompt, other answers: a different item, kept (and counted).
        {"prompt": "Question 5?", "chosen": "Another answer.", "rejected": "Bad answer 5."}]) + "\n")
    out = tmp_path / "run"
    assert main(["data", "import", "--format", "hh-rlhf", "--input", str(src), "--exclude-gold", str(gold),
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "held out 2 rows = 2 of the 4 gold items" in text and "1 kept pairs share a gold prompt" in text
    card = json.loads((out / "card.json").read_text())
    assert card["pairs"] == 4 and card["held_out"]["held_out"] == 2
    from alignsmith.curate.core.datafiles import read_parquet
    quarantine = read_parquet(out / "quarantine.parquet")
    assert sorted((q["line"], q["gold_item"]) for q in quarantine) == [(2, "gold.jsonl:1"), (5, "gold.jsonl:2")]
