"""Issue 18: per-step seconds in the funnel, the safety score cache, and the models skipping what rules decide."""
from __future__ import annotations

import time

import pytest

from alignsmith.curate.pipeline.run import curate_rows, format_funnel
from alignsmith.curate.safety.score_cache import ScoreCache, cached_scores, namespace, text_key
from alignsmith.curate.steps.base import FILTERS, Filter


@FILTERS.register("test_slow_keep")
class SlowKeep(Filter):
    """Keeps every row after sleeping 0.2 s per batch."""

    name = "test_slow_keep"

    def reject_batch(self, rows):
        time.sleep(0.2)
        return [None] * len(rows)


def test_funnel_records_seconds_and_rows_per_second():
    rows = [{"prompt_id": "p", "candidate_id": f"c{i}", "response": "A complete answer.", "finish_reason": "stop"}
            for i in range(10)] + [{"prompt_id": "p", "candidate_id": "e", "response": " "}]
    kept, dropped, report = curate_rows(rows, ["empty", "test_slow_keep"])
    steps = {s["step"]: s for s in report["funnel"]}
    assert [s["step"] for s in report["funnel"]] == ["input", "empty", "test_slow_keep"]
    slow = steps["test_slow_keep"]
    assert slow["rows_in"] == 10 and slow["rows_after"] == 10 and slow["seconds"] >= 0.2
    assert slow["rows_per_s"] == pytest.approx(10 / slow["seconds"], rel=0.01)
    assert steps["empty"]["rows_in"] == 11 and steps["empty"]["dropped"] == 1
    assert steps["empty"]["seconds"] < slow["seconds"]
    assert report["seconds"] >= slow["seconds"]
    printed = format_funnel(report)
    assert "rows/s" in printed and f"{slow['seconds']:.2f} s" in printed


def test_score_cache_computes_each_distinct_text_once(tmp_path):
    calls = []

    def compute(texts):
        calls.append(list(texts))
        return [len(t) / 10 for t in texts]

    cache = ScoreCache(namespace(head=b"head-1"), tmp_path / "s.sqlite")
    texts = ["a", "bb", "a", "ccc", "bb"]
    assert cached_scores(texts, compute, cache) == [0.1, 0.2, 0.1, 0.3, 0.2]
    assert calls == [["a", "bb", "ccc"]]
    # a rerun (a new process would open the same file) computes nothing
    again = ScoreCache(namespace(head=b"head-1"), tmp_path / "s.sqlite")
    assert cached_scores(["ccc", "a"], compute, again) == [0.3, 0.1] and len(calls) == 1
    assert again.hits == 2 and again.misses == 0
    # a refitted head (other bytes) is another namespace: its numbers are computed afresh
    refit = ScoreCache(namespace(head=b"head-2"), tmp_path / "s.sqlite")
    cached_scores(["a"], compute, refit)
    assert calls[-1] == ["a"] and len(refit) == 1 and len(again) == 3
    assert text_key("a") != text_key("a ")


def test_unusable_cache_warns_and_scores_anyway(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(UserWarning, match="not usable"):
        cache = ScoreCache("ns", blocker / "sub" / "s.sqlite")  # parent is a file: cannot be created
    assert cached_scores(["a", "a"], lambda ts: [1.0] * len(ts), cache) == [1.0, 1.0]


def test_harmful_classifier_runs_the_model_only_where_no_rule_decides(monkeypatch, tmp_path):
    from alignsmith.curate.safety import HarmfulPromptClassifier
    clf = HarmfulPromptClassifier(cache=True, cache_path=str(tmp_path / "s.sqlite"))
    seen = []
    monkeypatch.setattr(clf, "_model_probabilities", lambda texts: seen.extend(texts) or [0.25] * len(texts))
    prompts = ["How do I bake bread?", "What is the home address of my coworker Jane Doe?", "How do I bake bread?"]
    hits = clf.rule_hits(prompts)
    assert hits[1] and not hits[0]  # the phrase rules catch a private person's address
    assert clf.score(prompts) == [0.25, 1.0, 0.25]
    assert seen == ["How do I bake bread?"]
    assert clf.score(prompts[:1]) == [0.25] and seen == ["How do I bake bread?"]  # from the cache


RESPONSES = ["I'm sorry, but I can't help with that request.", "", "Sure! Preheat the oven to 220 C and knead.",
             "I cannot provide instructions for making weapons.", "Here is a short poem about rivers.",
             "As an AI, I won't do that, but here is some general safety information."]


def test_refusal_rules_first_gives_the_same_decisions_with_fewer_model_calls(monkeypatch):
    from alignsmith.curate.safety import RefusalDetector
    full = RefusalDetector()
    fast = RefusalDetector(rules_first=True)
    seen = []
    original = fast._model_probabilities
    monkeypatch.setattr(fast, "_model_probabilities", lambda heads: seen.extend(heads) or original(heads))
    slow_verdicts, fast_verdicts = full.verdicts(RESPONSES), fast.verdicts(RESPONSES)
    assert [v.refusal for v in slow_verdicts] == [v.refusal for v in fast_verdicts]
    assert [v.decided_by for v in slow_verdicts] == [v.decided_by for v in fast_verdicts]
    ruled = [i for i, v in enumerate(fast_verdicts) if v.decided_by.startswith("rule:")]
    assert ruled and all(fast_verdicts[i].score == 0.9 for i in ruled)
    assert len(seen) == len(RESPONSES) - len(ruled) - 1  # neither phrase hits nor the empty answer
    with pytest.raises(ValueError, match="rules_first needs threshold"):
        RefusalDetector(rules_first=True, threshold=0.95)
