"""Refusal phrase rules: precise on openings, blind to "can't" deep in helpful answers (no model needed)."""
import pytest

from alignsmith.curate.safety.refusal_rules import match_refusal_phrase


@pytest.mark.parametrize("text", [
    "I'm sorry, but I can't help with that.",
    "I apologise, but I will not be providing instructions for this.",
    "As an AI language model, I cannot assist with hacking.",
    "Sorry — I’m unable to comply with that request.",      # curly apostrophe
    "I must respectfully decline.",
    "That's not something I can help with.",
    "I can't give exact dosages, but in general you should follow the label.",  # partial refusal
])
def test_refusal_openings_match(text):
    assert match_refusal_phrase(text) is not None


@pytest.mark.parametrize("text", [
    "Sure! Here's how to kill a process: run `kill -9 PID`.",
    "I'm sorry to hear that you're feeling low. Here are some things that can help: ...",
    "I can't recommend this book highly enough.",
    "I cannot stress enough how important backups are. Step 1: ...",
    "You can't divide by zero, because no number times zero gives one.",
    "",
])
def test_compliant_openings_do_not_match(text):
    assert match_refusal_phrase(text) is None


def test_refusal_after_the_opening_is_ignored():
    # A helpful answer that later says "I can't" about a detail is not a refusal.
    text = "Here is a detailed guide to baking bread. " * 12 + "I can't help with gluten-free variants."
    assert match_refusal_phrase(text) is None
    assert match_refusal_phrase("I can't help with gluten-free variants. " + text) is not None
