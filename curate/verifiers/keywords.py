"""keywords:* — words that must appear, must not appear, or appear a number of times.

Keywords are matched case-insensitively and literally (IFEval hands them to `re` unescaped; for the
plain words its data uses, that is the same thing, and literal matching cannot crash on "c++").
"""
from __future__ import annotations

import re

from .base import RELATIONS, Verifier, compare, register


@register
class KeywordsExist(Verifier):
    """Every keyword appears somewhere (substring match, any case)."""

    instruction_id = "keywords:existence"
    kwarg_types = {"keywords": list}

    def check(self, response: str) -> bool:
        return all(re.search(re.escape(k), response, flags=re.IGNORECASE) for k in self.kwargs["keywords"])


@register
class KeywordFrequency(Verifier):
    """A keyword occurs less than / at least N times (substring matches, any case)."""

    instruction_id = "keywords:frequency"
    kwarg_types = {"keyword": str, "frequency": int, "relation": str}
    kwarg_choices = {"relation": RELATIONS}

    def check(self, response: str) -> bool:
        keyword = re.escape(self.kwargs["keyword"].strip())
        count = len(re.findall(keyword, response, flags=re.IGNORECASE))
        return compare(count, self.kwargs["relation"], self.kwargs["frequency"])


@register
class ForbiddenWords(Verifier):
    """None of the words appears as a whole word (any case)."""

    instruction_id = "keywords:forbidden_words"
    kwarg_types = {"forbidden_words": list}

    def check(self, response: str) -> bool:
        return not any(re.search(r"\b" + re.escape(w) + r"\b", response, flags=re.IGNORECASE)
                       for w in self.kwargs["forbidden_words"])


@register
class LetterFrequency(Verifier):
    """One character occurs less than / at least N times, counting upper and lower case together."""

    instruction_id = "keywords:letter_frequency"
    kwarg_types = {"letter": str, "let_frequency": int, "let_relation": str}
    kwarg_choices = {"let_relation": RELATIONS}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if len(kwargs["letter"].strip() or kwargs["letter"]) != 1:
            raise ValueError(f"letter must be one character, got {kwargs['letter']!r}")
        self.letter = (kwargs["letter"].strip() or kwargs["letter"]).lower()

    def check(self, response: str) -> bool:
        count = response.lower().count(self.letter)
        return compare(count, self.kwargs["let_relation"], self.kwargs["let_frequency"])
