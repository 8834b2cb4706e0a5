"""min_chosen_longer_share: the floor on chosen-longer pairs, so verifier rewards for short answers do not
turn a pairs dataset into a brevity lesson (fast, no models)."""
from __future__ import annotations

import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.curate.pairs.build import PairsConfig, build_pairs
from alignsmith.curate.pairs.rules import chosen_is_longer, length_floor


def _pair(i, chosen_len, rejected_len, margin):
    return {"chosen": [{"role": "assistant", "content": "x" * chosen_len}],
            "rejected": [{"role": "assistant", "content": "y" * rejected_len}],
            "margin": margin, "chosen_id": f"c{i}", "rejected_id": f"r{i}"}


@pytest.mark.parametrize("floor", [0.1, 0.25, 0.4, 0.5])
def test_floor_holds_and_drops_smallest_margin_shorter_pairs(floor):
    # 2 chosen-longer pairs, 10 chosen-shorter pairs with margins 0.0 .. 0.9
    pairs = [_pair(i, 50, 10, 1.0) for i in range(2)] + [_pair(2 + i, 10, 50, i / 10) for i in range(10)]
    kept, dropped = length_floor(pairs, floor)
    assert len(kept) + len(dropped) == len(pairs)
    share = sum(chosen_is_longer(p) for p in kept) / len(kept)
    assert share >= floor - 1e-9
    assert not any(chosen_is_longer(p) for p in dropped)
    if dropped:
        shorter_kept = [p["margin"] for p in kept if not chosen_is_longer(p)]
        assert max(p["margin"] for p in dropped) <= min(shorter_kept, default=1.0)
        # Not stricter than needed: keeping one more shorter pair would break the floor.
        assert 2 / (len(kept) + 1) < floor


def test_floor_none_or_already_met_keeps_everything():
    pairs = [_pair(0, 50, 10, 1.0), _pair(1, 10, 50, 1.0)]
    assert length_floor(pairs, None) == (pairs, [])
    assert length_floor(pairs, 0.5) == (pairs, [])


def test_config_checks_floor_range_and_order():
    with pytest.raises(InputError, match="min_chosen_longer_share"):
        PairsConfig.from_dict({"min_chosen_longer_share": 1.5})
    with pytest.raises(InputError, match="min_chosen_longer_share"):
        PairsConfig.from_dict({"min_chosen_longer_share": 0.7, "max_chosen_longer_share": 0.6})


def test_build_pairs_applies_the_floor_with_a_reason():
    # Three prompts where the short answer wins and one where the long answer wins.
    rows = []
    for k in range(4):
        long_wins = k == 0
        rows += [{"prompt_id": f"p{k}", "candidate_id": f"p{k}-a", "prompt": f"question {k}",
                  "response": "short answer", "scores": {"s": 0.0 if long_wins else 1.0}},
                 {"prompt_id": f"p{k}", "candidate_id": f"p{k}-b", "prompt": f"question {k}",
                  "response": "a much longer answer " * 5, "scores": {"s": 1.0 if long_wins else 0.0}}]
    config = {"scorers": {}, "weights": {"s": 1.0}, "min_chosen_longer_share": 0.5,
              "max_chosen_longer_share": None}
    result = build_pairs(rows, None, config)
    assert sum(chosen_is_longer(p) for p in result.pairs) / len(result.pairs) >= 0.5
    assert len(result.pairs) == 2
    reasons = [p["drop_reason"] for p in result.dropped_pairs]
    assert reasons and all(r.startswith("length_balance: chosen longer share under 0.5") for r in reasons)
