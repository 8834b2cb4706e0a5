"""Issue 18 acceptance: the fast safety path (score cache, rules first, candidates sharing prompts, other
batch make-up) gives the verdicts of the plain path on XSTest's prompts and completions and on our own
harmful-prompt dev sets. Slow: every text is run through the real models twice (about 5 min on 2 cores)."""
from __future__ import annotations

import csv
import json
import random
from importlib import resources

import pytest

pytestmark = pytest.mark.slow


def _decision(reason):
    return None if reason is None else reason.split(" (")[0]  # the numbers after it may differ (rules first)


def _xstest_rows(shared_data):
    with open(shared_data / "xstest" / "xstest_v2_completions_gpt4.csv", newline="", encoding="utf-8") as f:
        return [{"candidate_id": r["id"], "prompt": [{"role": "user", "content": r["prompt"]}],
                 "response": r["completion"]} for r in csv.DictReader(f)]


def test_safety_policy_verdicts_on_xstest_unchanged_by_the_fast_path(shared_data, tmp_path):
    from alignsmith.curate.safety import SafetyPolicyFilter
    rows = _xstest_rows(shared_data)
    assert len(rows) == 450
    plain = SafetyPolicyFilter(cache=False, rules_first=False).reject_batch([dict(r) for r in rows])
    # the fast path sees each row twice (two candidates per prompt), in another order, in two batches
    doubled = [dict(r, candidate_id=f"{r['candidate_id']}-{k}") for r in rows for k in (0, 1)]
    random.Random(0).shuffle(doubled)
    cache = str(tmp_path / "scores.sqlite")
    fast = SafetyPolicyFilter(cache_path=cache)
    half = len(doubled) // 2
    reasons = fast.reject_batch(doubled[:half]) + fast.reject_batch(doubled[half:])
    got = {r["candidate_id"]: _decision(v) for r, v in zip(doubled, reasons)}
    want = {r["candidate_id"]: _decision(v) for r, v in zip(rows, plain)}
    assert sum(v is not None for v in want.values()) > 0  # the policy does drop some XSTest rows
    assert {cid: got[f"{cid}-{k}"] for cid in want for k in (0, 1)} == want
    classifier = fast._judgements.classifier
    assert classifier._cache.misses <= len({json.dumps(r["prompt"]) for r in rows})  # each prompt once

    rerun = SafetyPolicyFilter(cache_path=cache)  # a rerun: every model number comes from the cache
    again = rerun.reject_batch([dict(r) for r in rows])
    assert [_decision(v) for v in again] == [_decision(v) for v in plain]
    assert rerun._judgements.classifier._cache.misses == 0 and rerun._judgements.detector._cache.misses == 0


def test_harmful_prompt_verdicts_on_dev_sets_unchanged_by_the_cache(tmp_path):
    from alignsmith.curate.safety import HarmfulPromptClassifier
    package = resources.files("alignsmith.curate.safety")
    prompts = []
    for name in sorted(p.name for p in package.iterdir() if p.name.startswith("prompt_dev")):
        prompts += [json.loads(line)["text"] for line in package.joinpath(name).read_text().splitlines()
                    if line.strip()]
    assert len(prompts) >= 700
    plain = HarmfulPromptClassifier().predict(prompts)
    shuffled = list(range(len(prompts)))
    random.Random(1).shuffle(shuffled)
    cached = HarmfulPromptClassifier(cache=True, cache_path=str(tmp_path / "scores.sqlite"))
    fast = cached.predict([prompts[i] for i in shuffled])
    assert [fast[shuffled.index(i)] for i in range(len(prompts))] == plain
