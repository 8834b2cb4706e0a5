"""change_case:* and punctuation:* — capital letters, lower case, and commas."""
from __future__ import annotations

from .base import RELATIONS, Verifier, compare, register
from .text import LanguageUndetectable, detect_language, word_tokens


def _is_english(text: str) -> bool:
    # IFEval gives the benefit of the doubt when langdetect cannot decide (no letters to judge).
    try:
        return detect_language(text) == "en"
    except LanguageUndetectable:
        return True


@register
class CapitalWordFrequency(Verifier):
    """Number of all-capital words (NLTK word tokens) is less than / at least N."""

    instruction_id = "change_case:capital_word_frequency"
    kwarg_types = {"capital_frequency": int, "capital_relation": str}
    kwarg_choices = {"capital_relation": RELATIONS}

    def check(self, response: str) -> bool:
        capitals = sum(1 for w in word_tokens(response) if w.isupper())
        return compare(capitals, self.kwargs["capital_relation"], self.kwargs["capital_frequency"])


@register
class EnglishCapital(Verifier):
    """English, and every cased letter is upper case."""

    instruction_id = "change_case:english_capital"

    def check(self, response: str) -> bool:
        return response.isupper() and _is_english(response)


@register
class EnglishLowercase(Verifier):
    """English, and every cased letter is lower case."""

    instruction_id = "change_case:english_lowercase"

    def check(self, response: str) -> bool:
        return response.islower() and _is_english(response)


@register
class NoComma(Verifier):
    """No ASCII comma anywhere."""

    instruction_id = "punctuation:no_comma"

    def check(self, response: str) -> bool:
        return "," not in response
