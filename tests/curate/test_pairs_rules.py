"""Pair strategies and the rules every proposed pair passes (fast, no models)."""
from __future__ import annotations

import random

import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.registry import UnknownNameError
from alignsmith.curate.pairs.build import PairsConfig, build_pairs
from alignsmith.curate.pairs.rules import chosen_is_longer, edit_similarity, length_balance, pair_rule_violation
from alignsmith.curate.pairs.strategies import PAIR_STRATEGIES, get_strategy


def cand(cid, score, response=None, pid="p1"):
    return {"prompt_id": pid, "candidate_id": cid, "score": score, "scores": {"s": score},
            "response": response if response is not None else f"answer {cid} " * 3}


def test_strategies_are_registered():
    assert {"best_vs_worst", "best_vs_random_lower", "all_above_margin"} <= set(PAIR_STRATEGIES.names())


def test_unknown_strategy_suggests_close_name():
    with pytest.raises(UnknownNameError, match="best_vs_worst"):
        get_strategy("best_vs_wrst")


def test_best_vs_worst_picks_extremes():
    ranked = [cand("a", 0.9), cand("b", 0.5), cand("c", 0.1)]
    (chosen, rejected), = get_strategy("best_vs_worst").propose(ranked, random.Random(0))
    assert (chosen["candidate_id"], rejected["candidate_id"]) == ("a", "c")


def test_best_vs_random_lower_is_seeded_and_strictly_lower():
    ranked = [cand("a", 0.9), cand("t", 0.9)] + [cand(f"c{i}", 0.1 * i) for i in range(6)]
    strat = get_strategy("best_vs_random_lower", k=3)
    first = strat.propose(ranked, random.Random(7))
    again = strat.propose(ranked, random.Random(7))
    assert [r["candidate_id"] for _, r in first] == [r["candidate_id"] for _, r in again]
    assert len({r["candidate_id"] for _, r in first}) == 3
    assert all(c["candidate_id"] == "a" and r["score"] < 0.9 for c, r in first)


def test_all_above_margin_orders_by_margin():
    ranked = [cand("a", 1.0), cand("b", 0.6), cand("c", 0.0)]
    proposals = get_strategy("all_above_margin").propose(ranked, random.Random(0))
    margins = [c["score"] - r["score"] for c, r in proposals]
    assert len(proposals) == 3 and margins == sorted(margins, reverse=True)


def test_rules_drop_ties_small_margins_and_near_identical():
    kw = dict(tie_tolerance=1e-9, min_margin=0.2, max_similarity=0.9)
    assert pair_rule_violation(cand("a", 0.5), cand("b", 0.5), **kw)[0] == "tie"
    assert pair_rule_violation(cand("a", 0.5), cand("b", 0.4), **kw)[0] == "min_margin"
    same = "The capital of France is Paris."
    assert pair_rule_violation(cand("a", 1, same), cand("b", 0, same + " "), **kw)[0] == "near_identical"
    assert pair_rule_violation(cand("a", 1, "Paris."), cand("b", 0, "I do not know, sorry."), **kw)[0] is None


def test_edit_similarity_normalises_case_and_space():
    assert edit_similarity("Hello   World", "hello world") == 1.0
    assert edit_similarity("abc", "xyz") < 0.1
    assert 0.5 < edit_similarity("the cat sat on the mat", "the cat sat on a mat") < 1.0


def _pair(i, chosen_len, rejected_len, margin):
    return {"chosen": [{"role": "assistant", "content": "x" * chosen_len}],
            "rejected": [{"role": "assistant", "content": "y" * rejected_len}],
            "margin": margin, "chosen_id": f"c{i}", "rejected_id": f"r{i}"}


@pytest.mark.parametrize("cap", [0.0, 0.25, 0.5, 0.6, 0.9])
def test_length_balance_holds_the_cap_and_drops_smallest_margins(cap):
    pairs = [_pair(i, 50, 10, margin=i / 10) for i in range(8)] + [_pair(8 + i, 10, 50, 1.0) for i in range(4)]
    kept, dropped = length_balance(pairs, cap)
    assert len(kept) + len(dropped) == len(pairs)
    share = sum(chosen_is_longer(p) for p in kept) / len(kept)
    assert share <= cap + 1e-9
    if dropped:  # least certain (smallest margin) chosen-longer pairs go first
        assert max(p["margin"] for p in dropped) <= min(p["margin"] for p in kept if chosen_is_longer(p)) \
            if any(chosen_is_longer(p) for p in kept) else True
    # The cap is not stricter than needed: one more chosen-longer pair would break it.
    longer = sum(chosen_is_longer(p) for p in kept)
    if dropped:
        assert (longer + 1) / (len(kept) + 1) > cap


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(InputError, match="min_margn"):
        PairsConfig.from_dict({"min_margn": 0.1})
    with pytest.raises(InputError, match="max_chosen_longer_share"):
        PairsConfig.from_dict({"max_chosen_longer_share": 1.5})


def test_every_dropped_pair_is_counted_with_a_reason():
    rows = []
    for p in range(6):
        for c, score in enumerate([0.9, 0.9, 0.5, 0.1, 0.0]):
            rows.append({"prompt_id": f"p{p}", "prompt": [{"role": "user", "content": f"q{p}"}],
                         "candidate_id": f"p{p}c{c}", "response": f"reply {c} " + "z" * (10 * c + p),
                         "scores": {"s": score}})
    result = build_pairs(rows, None, {"scorers": {}, "weights": {"s": 1.0}, "strategy": "all_above_margin",
                                      "min_margin": 0.45, "max_pairs_per_prompt": 2,
                                      "max_chosen_longer_share": None})
    reasons = {r["drop_reason"].split(":")[0] for r in result.dropped_pairs}
    assert {"tie", "min_margin", "max_pairs_per_prompt"} <= reasons
    assert result.stats["pairs_proposed"] == len(result.pairs) + len(result.dropped_pairs) == 6 * 10
    assert all(p["margin"] >= 0.45 for p in result.pairs)
