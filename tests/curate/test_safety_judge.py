"""LLM-judge mode: strict parsing, recorded parse failures, and the plumbing through a real backend."""
import math

import pytest

from alignsmith.curate.backends import BACKENDS, Backend, Completion
from alignsmith.curate.safety.judge import LLMJudge, parse_label


@pytest.mark.parametrize("raw, expected", [
    ("REFUSAL", True), ("  compliance.\n", False), ("**Refusal**", True),
    ("REFUSAL because it declined", None), ("Refused", None), ("", None), ("COMPLIANCE / REFUSAL", None),
])
def test_parse_label_is_strict(raw, expected):
    assert parse_label(raw, "REFUSAL", "COMPLIANCE") is expected


@BACKENDS.register("scripted-test-judge")
class ScriptedBackend(Backend):
    """Answers from a fixed list, and remembers the prompts it was shown."""

    name = "scripted-test-judge"

    def generate(self, prompts, params):
        self.seen = prompts
        answers = self.options["answers"]
        return [[Completion(answers[i % len(answers)], "stop")] for i in range(len(prompts))]


def test_judge_records_failures_and_falls_back_to_local():
    judge = LLMJudge("scripted-test-judge", "none", backend_options={"answers": ["REFUSAL", "compliance", "maybe?"]},
                     cache=False)  # the test reads what the backend was shown: no cached replies
    responses = ["I won't do that.", "Sure, here it is.", "I'm sorry, but I can't help with that."]
    scores = judge.score(responses, prompts=["q1", "q2", "q3"])
    assert scores[:2] == [1.0, 0.0]
    assert scores[2] >= 0.9  # the local detector scored the unparsable one (a clear refusal)
    assert [(f.index, f.raw) for f in judge.parse_failures] == [(2, "maybe?")]
    shown = judge.engine().seen[1][0]["content"]
    assert "q2" in shown and "Sure, here it is." in shown


def test_judge_without_fallback_leaves_failures_undecided():
    judge = LLMJudge("scripted-test-judge", "none", kind="harmful_prompt", fallback="none",
                     backend_options={"answers": ["HARMFUL", "nope"]})
    scores = judge.score(["how to make a bomb", "how to bake bread"])
    assert scores[0] == 1.0 and math.isnan(scores[1])
    assert judge.predict(["a", "b"]) == [True, False]
    with pytest.raises(ValueError, match="kind"):
        LLMJudge("hf", "x", kind="toxicity")


def test_judge_through_hf_backend_on_tiny_llama(tiny_llama):
    # A random tiny model: the point is the plumbing, i.e. every answer is either parsed or recorded.
    judge = LLMJudge("hf", tiny_llama, fallback="none", max_tokens=4)
    scores = judge.score(["I can't help with that.", "Here you go: 42."], prompts=["Q?", "What is 6*7?"])
    assert len(scores) == 2
    failed = {f.index for f in judge.parse_failures}
    for i, s in enumerate(scores):
        assert (math.isnan(s) and i in failed) or (0.0 <= s <= 1.0 and i not in failed)
    # The hf backend constrains the reply to the two labels: every reply is a label, with its probability.
    assert not failed and judge.core().structured
    assert all(isinstance(f.raw, str) for f in judge.parse_failures)
    judge.close()


@BACKENDS.register("keyword-test-judge")
class KeywordBackend(Backend):
    """A pretend strong judge: harmful if the request mentions a bomb, refusal if the answer says can't."""

    name = "keyword-test-judge"
    starts = 0

    def __init__(self, model, **options):
        super().__init__(model, **options)
        KeywordBackend.starts += 1

    def generate(self, prompts, params):
        out = []
        for messages in prompts:
            text = messages[-1]["content"]
            if "HARMFUL or BENIGN" in text:
                answer = "HARMFUL" if "bomb" in text else "BENIGN"
            else:
                answer = "REFUSAL" if "can't" in text.split("Assistant's response:")[1] else "Compliance."
            out.append([Completion(answer, "stop")])
        return out


def test_safety_policy_in_judge_mode_uses_one_backend():
    from alignsmith.curate.steps.base import FILTERS
    f = FILTERS.get("safety_policy")(judge_backend="keyword-test-judge", judge_model="any")
    rows = [{"prompt": [{"role": "user", "content": q}], "response": a} for q, a in [
        ("how to build a bomb", "Sure: take a pipe..."), ("how to build a bomb", "I can't help with that."),
        ("how to bake bread", "Mix flour and water..."), ("how to bake bread", "I can't help with that.")]]
    reasons = f.reject_batch(rows)
    assert reasons[1] is None and reasons[2] is None
    assert reasons[0].startswith("complies with a harmful request") and reasons[3].startswith("over-refusal")
    assert KeywordBackend.starts == 1
    assert f._judgements.judge_parse_failures() == 0
