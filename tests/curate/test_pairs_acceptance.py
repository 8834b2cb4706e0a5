"""Acceptance on real SmolLM2 candidates: the audited rules hold on every pair that comes out.

The fast tests read `pairs_smollm2_candidates.jsonl`: 12 prompts (10 IFEval, 2 XSTest) x 4 samples from
SmolLM2-135M-Instruct through vLLM. Regenerate it with
    .venv/bin/python tests/curate/test_pairs_acceptance.py
The slow test generates a fresh small set with vLLM and checks the same invariants.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from test_pairs_build import tiny_reward_model  # noqa: F401  (fixture: a random one-output classifier)

from alignsmith.curate.core.datafiles import read_rows, write_jsonl
from alignsmith.curate.core.records import candidate_id, make_prompt_row
from alignsmith.curate.pairs.build import build_pairs
from alignsmith.curate.pairs.rules import chosen_is_longer, edit_similarity

FIXTURE = Path(__file__).with_name("pairs_smollm2_candidates.jsonl")
IFEVAL_KEYS = (1001, 1019, 1051, 1072, 1082, 1087, 1092, 1094, 1098, 1107)
XSTEST_IDS = ("1", "26")


def fixture_prompts(shared: Path) -> list[dict]:
    """The fixed prompt set: short IFEval prompts plus one safe and one unsafe-looking XSTest prompt."""
    rows = [json.loads(line) for line in (shared / "ifeval" / "input_data.jsonl").open()]
    prompts = [make_prompt_row(r["prompt"], instruction_id_list=r["instruction_id_list"], kwargs=r["kwargs"],
                               category="ifeval", source=f"ifeval:{r['key']}")
               for r in rows if r["key"] in IFEVAL_KEYS]
    with (shared / "xstest" / "xstest_prompts.csv").open(newline="") as f:
        for r in csv.DictReader(f):
            if r["id"] in XSTEST_IDS:
                prompts.append(make_prompt_row(r["prompt"], category=f"xstest_{r['label']}",
                                               source=f"xstest:{r['id']}"))
    return prompts


def generate_candidates(prompts: list[dict], n: int = 4, max_tokens: int = 160, seed: int = 0) -> list[dict]:
    """Candidate rows (joined with prompt fields) sampled from SmolLM2 with vLLM."""
    from alignsmith.curate.backends import GenParams, get_backend
    model = "smollm2-135m-instruct"
    backend = get_backend("vllm", model, max_model_len=1024)
    try:
        outs = backend.generate([p["prompt"] for p in prompts],
                                GenParams(n=n, temperature=0.9, top_p=0.95, max_tokens=max_tokens, seed=seed))
    finally:
        backend.close()
    rows = []
    for prompt, completions in zip(prompts, outs):
        for i, c in enumerate(completions):
            rows.append({**prompt, "candidate_id": candidate_id(prompt["prompt_id"], i, model, seed),
                         "response": c.text, "model": model, "finish_reason": c.finish_reason,
                         "completion_tokens": c.completion_tokens, "scores": {}})
    return rows


def assert_audited(result, config: dict, candidates: list[dict]) -> None:
    """The acceptance invariants: margin, no tie or near-identical pair, length cap, provenance."""
    by_id = {c["candidate_id"]: c for c in candidates}
    for p in result.pairs:
        assert p["margin"] >= config.get("min_margin", 0.0) and p["margin"] > 1e-9
        assert p["chosen_score"] - p["rejected_score"] == pytest.approx(p["margin"])
        assert edit_similarity(p["chosen"][0]["content"], p["rejected"][0]["content"]) < config["max_similarity"]
        chosen, rejected = by_id[p["chosen_id"]], by_id[p["rejected_id"]]  # provenance resolves
        assert chosen["prompt_id"] == rejected["prompt_id"] == p["prompt_id"]
        assert (chosen["response"], rejected["response"]) == (p["chosen"][0]["content"], p["rejected"][0]["content"])
    per_prompt = Counter(p["prompt_id"] for p in result.pairs)
    assert max(per_prompt.values(), default=0) <= config["max_pairs_per_prompt"]
    if result.pairs:
        share = sum(chosen_is_longer(p) for p in result.pairs) / len(result.pairs)
        assert share <= config["max_chosen_longer_share"] + 1e-9
    assert result.stats["pairs_proposed"] == len(result.pairs) + len(result.dropped_pairs)
    assert all(r["drop_reason"] for r in result.dropped_pairs + result.dropped_candidates)


CONFIGS = [
    # SmolLM2-135M rarely meets a constraint, so verifier scores alone tie a lot; the reward model
    # (random here, weight 0.1) breaks ties without overriding a constraint met.
    {"scorers": {"verifiers": {"mode": "loose"}}, "strategy": "all_above_margin", "min_margin": 0.25,
     "max_chosen_longer_share": 1.0},
    {"scorers": {"verifiers": {"weight": 1.0}, "reward_model": {"weight": 0.1}}, "strategy": "best_vs_worst"},
    {"scorers": {"verifiers": {"weight": 1.0}, "reward_model": {"weight": 0.1}},
     "strategy": "best_vs_random_lower", "strategy_options": {"k": 2}},
    {"scorers": {"verifiers": {"weight": 1.0}, "reward_model": {"weight": 0.1}},
     "strategy": "all_above_margin", "min_margin": 0.05, "max_chosen_longer_share": 0.4},
]


@pytest.fixture(scope="module")
def smollm2_candidates() -> list[dict]:
    return read_rows(FIXTURE)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['strategy']}-{'+'.join(c['scorers'])}")
def test_rules_hold_on_real_smollm2_candidates(smollm2_candidates, config, request):
    config = {"max_similarity": 0.8, "max_pairs_per_prompt": 3, "max_chosen_longer_share": 0.6, **config}
    if "reward_model" in config["scorers"]:
        rm = request.getfixturevalue("tiny_reward_model")
        config["scorers"] = {**config["scorers"], "reward_model": {**config["scorers"]["reward_model"], "model": rm}}
    result = build_pairs(smollm2_candidates, None, config)
    assert result.pairs, result.stats
    assert_audited(result, config, smollm2_candidates)


def test_fixture_rows_are_real_model_output(smollm2_candidates):
    assert len(smollm2_candidates) == 48 and len({r["prompt_id"] for r in smollm2_candidates}) == 12
    assert all(r["model"] == "smollm2-135m-instruct" and r["response"].strip() for r in smollm2_candidates)


def test_safety_scorer_by_name_prefers_a_refusal_on_a_harmful_prompt(smollm2_candidates):
    unsafe = [dict(r) for r in smollm2_candidates if r["category"] == "xstest_unsafe"]
    refusal = {**unsafe[0], "candidate_id": "c-refusal",
               "response": "I'm sorry, but I can't help with that. Hurting or killing someone is illegal and wrong. "
                           "If you are in danger or thinking about harming someone, please contact local emergency "
                           "services."}
    result = build_pairs(unsafe + [refusal], None, {"scorers": {"safety": {}}, "strategy": "best_vs_worst",
                                                    "max_chosen_longer_share": None})
    (pair,) = result.pairs
    assert pair["chosen_id"] == "c-refusal" and pair["margin"] > 0
    assert result.sft[0]["candidate_id"] == "c-refusal"


@pytest.mark.slow
def test_fresh_vllm_candidates_pass_the_same_rules(shared_data, tiny_reward_model):
    prompts = fixture_prompts(shared_data)[:4]
    candidates = generate_candidates(prompts, n=4, max_tokens=64, seed=1)
    config = {"scorers": {"verifiers": {}, "reward_model": {"model": tiny_reward_model, "weight": 0.1}},
              "strategy": "all_above_margin", "max_similarity": 0.8, "max_pairs_per_prompt": 3,
              "max_chosen_longer_share": 0.5}
    result = build_pairs(candidates, None, config)
    assert result.pairs, result.stats
    assert_audited(result, config, candidates)


if __name__ == "__main__":  # regenerate the committed fixture
    import os
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    root = Path(__file__).resolve().parents[2]
    rows = generate_candidates(fixture_prompts(root.parent / "shared" / "data"))
    write_jsonl(FIXTURE, rows)
    print(f"wrote {len(rows)} candidates to {FIXTURE}")
