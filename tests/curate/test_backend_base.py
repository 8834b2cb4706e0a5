"""The Backend contract: one `generate` (collected from `stream`) and one chunked `stream` (over `generate`).

vLLM and the OpenAI client implement only `stream` and the HF backend too; a backend written against the
older contract (only `generate`, like the test judges) still streams. The vLLM path itself is covered by
tests/curate/test_pairs_acceptance.py and tests/evaluate/test_eval_integration.py (they start vLLM).
"""
from __future__ import annotations

import pytest

from alignsmith.curate.backends.base import Backend, Completion, GenParams

PROMPTS = [[{"role": "user", "content": f"q{i}"}] for i in range(5)]


class LastFirst(Backend):
    """Streams its prompts in reverse order, as a busy engine finishes them out of order."""

    name = "last-first"

    def stream(self, prompts, params):
        for i, messages in reversed(list(enumerate(prompts))):
            yield i, [Completion(f"{messages[-1]['content']}#{k}", "stop") for k in range(params.n)]


class ListAtATime(Backend):
    """Implements only `generate`; remembers the lists it was handed."""

    name = "list-at-a-time"
    stream_chunk = 2

    def __init__(self, model, **options):
        super().__init__(model, **options)
        self.calls = []

    def generate(self, prompts, params):
        self.calls.append(len(prompts))
        return [[Completion(m[-1]["content"].upper(), "stop")] for m in prompts]


class Neither(Backend):
    name = "neither"


def test_generate_collects_stream_in_input_order():
    out = LastFirst("m").generate(PROMPTS, GenParams(n=2))
    assert [[c.text for c in comps] for comps in out] == [[f"q{i}#0", f"q{i}#1"] for i in range(5)]


def test_a_generate_only_backend_streams_in_chunks():
    backend = ListAtATime("m")
    assert list(backend.stream(iter(PROMPTS), GenParams(n=1))) == [
        (i, [Completion(f"Q{i}", "stop")]) for i in range(5)]
    assert backend.calls == [2, 2, 1]


def test_a_backend_with_neither_method_says_so():
    with pytest.raises(NotImplementedError, match="Neither implements neither generate nor stream"):
        Neither("m").generate(PROMPTS, GenParams(n=1))
    with pytest.raises(NotImplementedError, match="neither generate nor stream"):
        list(Neither("m").stream(PROMPTS, GenParams(n=1)))
