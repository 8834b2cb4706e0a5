"""Judge cards: agreement with human labels, kappa, position consistency, warnings; run folder via the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from alignsmith.curate.judges.cards import find_judge_card, judge_card_summary
from alignsmith.evaluate.judge_card import _orient, card_metrics, hh_gold, parse_judge_spec, self_preference_warning


def _items(n=60, seed=0):
    return _orient([{"item": f"g:{i}", "prompt": [{"role": "user", "content": f"q{i}"}],
                     "better": "good answer " * (1 + i % 3), "worse": "bad"} for i in range(n)], seed)


def test_orientation_balances_human_labels():
    items = _items(200)
    share = np.mean([it["human_x"] for it in items])
    assert 0.4 < share < 0.6
    assert all((it["x"], it["y"]) == ((it["better"], it["worse"]) if it["human_x"] else (it["worse"], it["better"]))
               for it in items)


def test_perfect_judge_and_position_biased_judge():
    items = _items()
    perfect = [{"p_x": 0.9 if it["human_x"] else 0.1, "verdict": "first" if it["human_x"] else "second"}
               for it in items]
    m = card_metrics(items, perfect, {"judgements": 120, "parse_failures": 0, "seconds": 1.2, "tokens": 12000})
    assert m["agreement"] == 1.0 and m["cohen_kappa"] == pytest.approx(1.0) and m["position_consistency"] == 1.0
    assert m["warnings"] == [] and m["seconds_per_judgement"] == pytest.approx(0.01)
    assert m["tokens_per_judgement"] == 100
    # Says "A" in both orders: P(X) is 0.5 everywhere -> ties, no agreement above chance, loud warnings.
    biased = [{"p_x": 0.5, "verdict": "inconsistent"} for _ in items]
    b = card_metrics(items, biased, {"judgements": 120, "parse_failures": 0})
    assert b["agreement"] == 0.5 and b["position_consistency"] == 0.0
    assert any(w.startswith("NEAR CHANCE") for w in b["warnings"])
    assert any(w.startswith("POSITION BIAS") for w in b["warnings"])


def test_kappa_matches_scikit_learn_and_unparsed_items_are_left_out():
    items = _items(80, seed=3)
    rng = np.random.default_rng(1)
    rows = [{"p_x": float(rng.uniform()), "verdict": "first"} for _ in items]
    rows[0] = {"p_x": None, "verdict": "unparsed"}
    m = card_metrics(items, rows, {"judgements": 160, "parse_failures": 2})
    kept = [(it["human_x"], r["p_x"] > 0.5) for it, r in zip(items, rows) if r["p_x"] is not None]
    assert m["n_scored"] == 79 and m["cohen_kappa"] == pytest.approx(cohen_kappa_score(*zip(*kept)))
    assert m["parse_failure_rate"] == pytest.approx(2 / 160)


def test_hh_gold_reads_both_splits_and_skips(shared_data):
    first = hh_gold(shared_data / "hh_rlhf", per_split=3)
    later = hh_gold(shared_data / "hh_rlhf", per_split=3, skip=3)
    assert len(first) == len(later) == 6
    assert not {i["item"] for i in first} & {i["item"] for i in later}
    assert all(i["better"] != i["worse"] for i in first)


def test_spec_and_self_preference():
    assert parse_judge_spec("llm:vllm:smollm2-135m-instruct")["backend"] == "vllm"
    assert parse_judge_spec("reward:/x/rm") == {"kind": "reward", "model": "/x/rm"}
    assert parse_judge_spec("length:longer")["prefer"] == "longer"
    for bad in ("llm:tgi:m", "gpt4", "reward:", "length:random"):
        with pytest.raises(ValueError):
            parse_judge_spec(bad)
    assert self_preference_warning("/m/smollm2", ["smollm2"]).startswith("SELF-PREFERENCE")
    assert self_preference_warning("judge", ["other"]) is None


def test_cli_card_run_folder_with_hf_judge_and_lookup(tiny_llama, tmp_path):
    from alignsmith.train.cli import main
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps({"prompt": f"Say {w}.", "chosen": w, "rejected": "no"})
                              for w in ["yes", "red", "blue", "ok"]))
    out = tmp_path / "runs" / "judge_card" / "c1"
    code = main(["judge", "card", "--judge", f"llm:hf:{tiny_llama}", "--gold", str(gold), "--out", str(out),
                 "--candidate-model", tiny_llama])
    assert code == 0 and (out / "DONE").exists()
    card = json.loads((out / "card.json").read_text())
    assert card["n_items"] == 4 and card["structured_output"] is True and card["parse_failures"] == 0
    assert any(w.startswith("SELF-PREFERENCE") for w in card["warnings"])
    assert any(w.startswith("NEAR CHANCE") for w in card["warnings"])  # 4 items can never be clearly above chance
    assert find_judge_card(tiny_llama, tmp_path / "runs")["card_path"] == str(out)
    summary = judge_card_summary("some-other-judge", tmp_path / "runs")
    assert summary["judge_card"] is None and summary["judge_warnings"][0].startswith("NO JUDGE CARD")
    assert main(["judge", "card", "--judge", "llm:tgi:x"]) == 2


def test_reward_model_card_on_tiny_model(tiny_llama, tmp_path):
    from alignsmith.evaluate.judge_card import judge_card
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps({"prompt": "Hi", "chosen": f"hello {i}" + " there" * (3 * i),
                                          "rejected": "go away"}) for i in range(6)))
    card, rows = judge_card(f"reward:{tiny_llama}", gold=str(gold))
    assert card["n_scored"] == 6 and card["position_consistency"] is None
    assert all(0.0 < r["p_x"] < 1.0 for r in rows)
    # A causal LM has no trained score head: the card says so, and its seeded random head is reproducible.
    assert any(w.startswith("UNTRAINED REWARD HEAD") for w in card["warnings"])
    _, again = judge_card(f"reward:{tiny_llama}", gold=str(gold))
    assert [r["p_x"] for r in again] == [r["p_x"] for r in rows]
    # Length-sorted batches give each text the score it gets alone (padding is masked, order restored).
    _, alone = judge_card(f"reward:{tiny_llama}", gold=str(gold), options={"batch_size": 1})
    assert [r["reward_x"] for r in alone] == pytest.approx([r["reward_x"] for r in rows], abs=1e-4)
    assert [r["reward_y"] for r in alone] == pytest.approx([r["reward_y"] for r in rows], abs=1e-4)


def test_length_baseline_card_on_the_default_gold(shared_data):
    """`length:longer` always picks the longer answer: its agreement is the humans' longer-answer rate."""
    from alignsmith.evaluate.judge_card import judge_card
    card, rows = judge_card("length:longer", data_root=shared_data / "hh_rlhf", per_split=50)
    ties = sum(r["len_x"] == r["len_y"] for r in rows)
    assert card["n_items"] == 100 and card["judge_prefers_longer"] == 1.0 and card["ties"] == ties
    # Equal-length items are ties for this judge and are left out of both length-preference rates.
    assert card["agreement"] == pytest.approx((card["humans_prefer_longer"] * (100 - ties) + 0.5 * ties) / 100)
    shorter, _ = judge_card("length:shorter", data_root=shared_data / "hh_rlhf", per_split=50)
    assert shorter["judge_prefers_longer"] == 0.0
    assert shorter["agreement"] == pytest.approx(1.0 - card["agreement"])


class _AlwaysA:
    """A judge engine with structured choice that always answers A with probability 0.9 (pure position)."""

    def choose(self, prompts, options, *, seed=0):
        from alignsmith.curate.backends.choice import Choice
        return [Choice("A", {"A": 0.9, "B": 0.1}, 5, 1) for _ in prompts]


def test_winrate_task_records_the_judge_card_and_warns_loudly(tmp_path, capsys):
    from alignsmith.curate.core.datafiles import write_json
    from alignsmith.evaluate.tasks import EvalSample, get_task
    ref = tmp_path / "ref.jsonl"
    ref.write_text("".join(json.dumps({"instruction": f"q{i}", "output": "reference"}) + "\n" for i in range(3)))
    task = get_task("winrate", reference=str(ref), judge="llm", cache=False)
    task.attach(model="my-model", backend=_AlwaysA())
    rows = task.score_batch([EvalSample(it, "answer") for it in task.items()])
    assert [r["win"] for r in rows] == [pytest.approx(0.5)] * 3  # position bias cancels over the two orders
    notes = task.judge_notes
    assert notes["card"] is None and notes["warnings"][0].startswith("NO JUDGE CARD")
    assert any(w.startswith("SELF-PREFERENCE") for w in notes["warnings"])
    assert "WARNING: NO JUDGE CARD" in capsys.readouterr().err
    # With a card on file for that judge, its agreement and warnings travel with the win rate.
    card_dir = tmp_path / "runs" / "judge_card" / "20260101T000000Z-x"
    write_json(card_dir / "card.json", {"judge_model": "my-model", "agreement": 0.51, "agreement_ci": [0.41, 0.61],
                                        "warnings": ["NEAR CHANCE: agreement 0.51"]})
    (card_dir / "DONE").write_text("x")
    task.score_batch([EvalSample(it, "answer") for it in task.items()])
    assert task.judge_notes["card"] == str(card_dir) and task.judge_notes["agreement"] == 0.51
    assert task.judge_notes["warnings"][0].startswith("NEAR CHANCE")
