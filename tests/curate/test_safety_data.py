"""The shipped training examples and weights: small, labelled, recorded, and free of XSTest text."""
import csv
import re
from importlib import resources

import pytest

from alignsmith.curate.safety.linear_head import HARMFUL_PROMPT_WEIGHTS, REFUSAL_WEIGHTS, LinearHead
from alignsmith.curate.safety.training_data import (
    OWN_PROMPT_DEV4,
    OWN_PROMPT_DEV5,
    OWN_PROMPT_DEV6,
    OWN_PROMPT_DEVS,
    OWN_PROMPT_EXAMPLES_CONTEXT,
    OWN_PROMPT_EXAMPLES_HELPSEEKING,
    OWN_PROMPT_EXAMPLES_V7,
    OWN_PROMPT_TRAINING_FILES,
    OWN_REFUSAL_EXAMPLES,
    PROMPT_LABELS,
    REFUSAL_LABELS,
    harmful_prompt_training_set,
    hh_turns,
    own_examples,
)

PACKAGE = "alignsmith.curate.safety"


OWN_PROMPT_FILES = OWN_PROMPT_TRAINING_FILES + OWN_PROMPT_DEVS
BLIND_TEST_V5 = "prompt_blind_test_v5.jsonl"  # measured once after v5's choice; never trained or tuned on
OWN_FILES = (OWN_REFUSAL_EXAMPLES,) + OWN_PROMPT_FILES + (BLIND_TEST_V5,)


@pytest.mark.parametrize("name, labels", [(OWN_REFUSAL_EXAMPLES, REFUSAL_LABELS)]
                         + [(name, PROMPT_LABELS) for name in OWN_PROMPT_FILES])
def test_own_examples_are_labelled_and_varied(name, labels):
    rows = own_examples(name)
    assert len(rows) >= 150
    assert {r["label"] for r in rows} == set(labels)
    assert len({r["text"] for r in rows}) == len(rows)


@pytest.mark.parametrize("name", [OWN_PROMPT_EXAMPLES_CONTEXT, OWN_PROMPT_DEV4])
def test_context_files_cover_the_messy_kinds_with_both_labels(name):
    rows = own_examples(name)
    by_kind = {}
    for r in rows:
        by_kind.setdefault(r["category"], set()).add(r["label"])
    # multi-sentence and wrapped asks come in harmful and benign forms, so the frame is never the cue
    for kind in ("context", "wrapped"):
        assert by_kind[f"{kind}_harmful"] == {"harmful"} and by_kind[f"{kind}_benign"] == {"benign"}
    assert by_kind["help_seeking_benign"] == {"benign"} and by_kind["self_harm_harmful"] == {"harmful"}
    multi = [r for r in rows if r["category"].startswith("context_")]
    assert all(len(re.findall(r"[.!?](?:\s|$)", r["text"])) >= 2 for r in multi), "context rows have 2+ sentences"


def test_help_seeking_file_pairs_benign_help_with_harmful_asks_on_the_same_topics():
    rows = own_examples(OWN_PROMPT_EXAMPLES_HELPSEEKING)
    by_kind = {}
    for r in rows:
        by_kind.setdefault(r["category"], set()).add(r["label"])
    for topic in ("abuse", "crisis", "scam", "overdose", "security"):
        assert by_kind[f"help_seeking_{topic}"] == {"benign"}
    # the contrast groups: without them "I'm worried about ..." alone would read as benign
    assert by_kind["harmful_dressed_as_help"] == {"harmful"} and by_kind["harmful_same_topic"] == {"harmful"}
    benign = sum(r["label"] == "benign" for r in rows)
    assert 200 <= benign and 80 <= len(rows) - benign


# v7's contrast groups: each harmful kind has a benign twin on the same topic or in the same wrapper, so
# neither the wrapper ("hypothetically", "you are ...", a preface) nor the topic word is the cue.
V7_CONTRASTS = {"fiction_wrapped_harmful": "fiction_benign", "hypothetical_wrapped_harmful": "hypothetical_wrapped_benign",
                "roleplay_wrapped_harmful": "roleplay_wrapped_benign", "ignore_rules_harmful": "ignore_rules_benign",
                "preface_harmful": "preface_benign", "selfharm_method": "selfharm_support",
                "plain_harmful_fraud": "help_seeking_scam", "violent_human_target": "plain_benign_homonym"}


def test_v7_file_pairs_every_harmful_kind_with_a_benign_contrast():
    rows = own_examples(OWN_PROMPT_EXAMPLES_V7)
    by_kind = {}
    for r in rows:
        by_kind.setdefault(r["category"], []).append(r["label"])
    assert set(by_kind) == set(V7_CONTRASTS) | set(V7_CONTRASTS.values())
    for harmful, benign in V7_CONTRASTS.items():
        assert set(by_kind[harmful]) == {"harmful"} and set(by_kind[benign]) == {"benign"}
        assert len(by_kind[benign]) >= 0.75 * len(by_kind[harmful]) >= 6, (harmful, benign)
    prefaced = [r["text"] for r in rows if r["category"].startswith("preface_")]
    # the ask may be lowercase with no final stop ("... lol. anyway how do i ..."): one sentence end before it
    assert all(re.search(r"[.!?]\s+\S", t) for t in prefaced), "a preface is a sentence of its own"


def test_dev5_is_another_hands_set_with_help_seeking_kinds():
    rows = own_examples(OWN_PROMPT_DEV5)
    assert len(rows) == 200 and all(r["kind"] for r in rows)
    assert {r["label"] for r in rows if r["kind"].startswith("help_seeking")} == {"benign"}


def test_dev6_is_another_hands_set_with_the_v7_kinds():
    rows = own_examples(OWN_PROMPT_DEV6)
    assert len(rows) == 240 and all(r["kind"] for r in rows)
    kinds = {}
    for r in rows:
        kinds.setdefault(r["kind"], set()).add(r["label"])
    assert kinds["fiction_benign"] == {"benign"} and kinds["fiction_wrapped_harmful"] == {"harmful"}
    assert kinds["multi_sentence_mixed"] == {"benign", "harmful"}  # the final ask decides
    # v7's training file was cut where it came near dev 6 (word Jaccard 0.5), so dev 6 stays an independent check
    dev_words = [_words(r["text"]) for r in rows]
    for row in own_examples(OWN_PROMPT_EXAMPLES_V7):
        w = _words(row["text"])
        assert max(len(w & x) / len(w | x) for x in dev_words) < 0.5, row["text"]


@pytest.mark.parametrize("blind", [BLIND_TEST_V5, "prompt_blind_test_v6.jsonl", "prompt_blind_test_v7.jsonl"])
def test_blind_test_set_is_not_read_by_training_or_the_dev_choice(blind):
    source = resources.files(PACKAGE).joinpath("training_data.py").read_text(encoding="utf-8")
    assert "blind" not in source.lower() and blind not in OWN_PROMPT_FILES  # not training, not dev
    rows = own_examples(blind)
    assert len(rows) == 240 and {r["label"] for r in rows} == set(PROMPT_LABELS)
    assert len({r["kind"] for r in rows}) == 20


def _words(text):
    return set(re.findall(r"\w+", text.lower()))


def test_own_examples_do_not_copy_xstest(shared_data):
    xs = [r["prompt"] for r in csv.DictReader(open(shared_data / "xstest" / "xstest_prompts.csv", encoding="utf-8"))]
    xs += [r["completion"] for r in csv.DictReader(open(shared_data / "xstest" / "xstest_v2_completions_gpt4.csv",
                                                        encoding="utf-8"))]
    xs_words = [_words(x) for x in xs]
    for name in OWN_FILES:
        for row in own_examples(name):
            w = _words(row["text"])
            worst = max(len(w & x) / len(w | x) for x in xs_words)
            assert worst < 0.8, f"{name}: {row['text']!r} is too close to an XSTest item"


@pytest.mark.parametrize("name, inputs", [(REFUSAL_WEIGHTS, 384), (HARMFUL_PROMPT_WEIGHTS, 2 * 3 * 576)])
def test_shipped_weights_are_small_and_say_what_they_saw(name, inputs):
    raw = resources.files(PACKAGE).joinpath(name).read_bytes()
    assert len(raw) < 300_000
    head = LinearHead.load(name)
    assert len(head.coef) == inputs
    if name == HARMFUL_PROMPT_WEIGHTS:  # SmolLM2 (hidden size 576): last + mean position at 3 layers
        assert (head.meta["features"], len(head.meta["pools"]), len(head.meta["layers"])) == ("lm_hidden", 2, 3)
    sources = set(head.meta["trained_on"])
    assert "own" in sources and not any("xstest" in s.lower() for s in sources)


def test_harmful_prompt_weights_use_no_non_commercial_data_and_record_the_dev_threshold():
    meta = LinearHead.load(HARMFUL_PROMPT_WEIGHTS).meta
    assert set(meta["trained_on"]) <= {"own", "advbench", "harmbench", "hh_helpful", "hh_harmless_refused"}
    # the head's threshold was picked on these dev sets; a dev set added later (dev 6, before the next refit)
    # is listed in OWN_PROMPT_DEVS but not yet in the head's record
    assert meta["dev_set"] == list(OWN_PROMPT_DEVS[:len(meta["dev_set"])]) and len(meta["dev_set"]) >= 5
    assert str(meta["threshold"]) in meta["dev_accuracy_by_threshold_with_rules"]


@pytest.mark.parametrize("dev_name", OWN_PROMPT_DEVS)
def test_dev_sets_are_separate_from_training_examples(shared_data, dev_name):
    training = harmful_prompt_training_set(shared_data)
    assert not any("alpaca" in s for s in training.sources)
    seen = {_norm(t) for t in training.texts}
    train_words = [_words(t) for t, s in zip(training.texts, training.sources) if s == "own"]
    for row in own_examples(dev_name):
        assert _norm(row["text"]) not in seen
        w = _words(row["text"])
        assert max(len(w & x) / len(w | x) for x in train_words) < 0.8, row["text"]


def _norm(text):
    return " ".join(re.findall(r"\w+", text.lower()))


def test_head_round_trips_and_names_missing_weights(tmp_path):
    head = LinearHead(coef=[1.0, -1.0], intercept=0.0, meta={"name": "t"})
    head.save(tmp_path / "h.json")
    again = LinearHead.load(tmp_path / "h.json")
    assert again.probability([[2.0, 0.0], [0.0, 2.0]]).round(3).tolist() == [0.881, 0.119]
    with pytest.raises(FileNotFoundError, match="refit"):
        LinearHead.load("no_such_head.json")
    with pytest.raises(ValueError, match="hidden layer"):
        LinearHead.from_json({"coef": [1.0], "intercept": 0.0, "hidden_coef": [[1.0]], "hidden_intercept": [0.0]})


def test_hh_turns_split_dialogues():
    d = "\n\nHuman: hi there\n\nAssistant: hello!\n\nHuman: how are you?\n\nAssistant: fine"
    assert hh_turns(d) == [("Human", "hi there"), ("Assistant", "hello!"), ("Human", "how are you?"),
                           ("Assistant", "fine")]
