"""The shipped training examples and weights: small, labelled, recorded, and free of XSTest text."""
import csv
import json
import re
from importlib import resources

import pytest

from alignsmith.curate.safety.linear_head import HARMFUL_PROMPT_WEIGHTS, REFUSAL_WEIGHTS, LinearHead
from alignsmith.curate.safety.training_data import (OWN_PROMPT_EXAMPLES, OWN_REFUSAL_EXAMPLES, PROMPT_LABELS,
                                                    REFUSAL_LABELS, hh_turns, own_examples)

PACKAGE = "alignsmith.curate.safety"


@pytest.mark.parametrize("name, labels", [(OWN_REFUSAL_EXAMPLES, REFUSAL_LABELS), (OWN_PROMPT_EXAMPLES, PROMPT_LABELS)])
def test_own_examples_are_labelled_and_varied(name, labels):
    rows = own_examples(name)
    assert len(rows) >= 200
    assert {r["label"] for r in rows} == set(labels)
    assert len({r["text"] for r in rows}) == len(rows)


def _words(text):
    return set(re.findall(r"\w+", text.lower()))


def test_own_examples_do_not_copy_xstest(shared_data):
    xs = [r["prompt"] for r in csv.DictReader(open(shared_data / "xstest" / "xstest_prompts.csv", encoding="utf-8"))]
    xs += [r["completion"] for r in csv.DictReader(open(shared_data / "xstest" / "xstest_v2_completions_gpt4.csv",
                                                        encoding="utf-8"))]
    xs_words = [_words(x) for x in xs]
    for name in (OWN_REFUSAL_EXAMPLES, OWN_PROMPT_EXAMPLES):
        for row in own_examples(name):
            w = _words(row["text"])
            worst = max(len(w & x) / len(w | x) for x in xs_words)
            assert worst < 0.8, f"{name}: {row['text']!r} is too close to an XSTest item"


@pytest.mark.parametrize("name", [REFUSAL_WEIGHTS, HARMFUL_PROMPT_WEIGHTS])
def test_shipped_weights_are_small_and_say_what_they_saw(name):
    raw = resources.files(PACKAGE).joinpath(name).read_bytes()
    assert len(raw) < 1_000_000
    head = LinearHead.load(name)
    assert len(head.coef) == 384
    sources = set(head.meta["trained_on"])
    assert "own" in sources and not any("xstest" in s.lower() for s in sources)


def test_head_round_trips_and_names_missing_weights(tmp_path):
    head = LinearHead(coef=[1.0, -1.0], intercept=0.0, meta={"name": "t"})
    head.save(tmp_path / "h.json")
    again = LinearHead.load(tmp_path / "h.json")
    assert again.probability([[2.0, 0.0], [0.0, 2.0]]).round(3).tolist() == [0.881, 0.119]
    with pytest.raises(FileNotFoundError, match="refit"):
        LinearHead.load("no_such_head.json")


def test_hh_turns_split_dialogues():
    d = "\n\nHuman: hi there\n\nAssistant: hello!\n\nHuman: how are you?\n\nAssistant: fine"
    assert hh_turns(d) == [("Human", "hi there"), ("Assistant", "hello!"), ("Human", "how are you?"),
                           ("Assistant", "fine")]
