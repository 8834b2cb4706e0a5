"""length_constraints:* — how many sentences, words and paragraphs, and how a paragraph starts."""
from __future__ import annotations

import re

from .base import RELATIONS, Verifier, compare, register
from .text import count_sentences, count_words

# IFEval's paragraph divider for number_paragraphs: a markdown rule "***" with at most one space or
# newline around it.
_RULE = re.compile(r"\s?\*\*\*\s?")


@register
class NumberSentences(Verifier):
    """Sentence count (NLTK Punkt) is less than / at least N."""

    instruction_id = "length_constraints:number_sentences"
    kwarg_types = {"num_sentences": int, "relation": str}
    kwarg_choices = {"relation": RELATIONS}

    def check(self, response: str) -> bool:
        return compare(count_sentences(response), self.kwargs["relation"], self.kwargs["num_sentences"])


@register
class NumberWords(Verifier):
    """Word count (runs of \\w) is less than / at least N."""

    instruction_id = "length_constraints:number_words"
    kwarg_types = {"num_words": int, "relation": str}
    kwarg_choices = {"relation": RELATIONS}

    def check(self, response: str) -> bool:
        return compare(count_words(response), self.kwargs["relation"], self.kwargs["num_words"])


@register
class NumberParagraphs(Verifier):
    """Exactly N paragraphs separated by "***"; an empty paragraph is only allowed at either end."""

    instruction_id = "length_constraints:number_paragraphs"
    kwarg_types = {"num_paragraphs": int}

    def check(self, response: str) -> bool:
        parts = _RULE.split(response)
        count = len(parts)
        for index, part in enumerate(parts):
            if not part.strip():
                if index not in (0, len(parts) - 1):
                    return False  # "***" twice in a row: an empty paragraph in the middle
                count -= 1
        return count == self.kwargs["num_paragraphs"]


# Characters that end IFEval's "first word" of a paragraph.
_WORD_END = set(".,?!'\"")


@register
class NthParagraphFirstWord(Verifier):
    """Exactly N paragraphs (split on blank lines) and paragraph i starts with the given word."""

    instruction_id = "length_constraints:nth_paragraph_first_word"
    kwarg_types = {"num_paragraphs": int, "nth_paragraph": int, "first_word": str}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if kwargs["nth_paragraph"] < 1:
            raise ValueError(f"nth_paragraph counts from 1, got {kwargs['nth_paragraph']}")

    def check(self, response: str) -> bool:
        paragraphs = response.split("\n\n")
        count = sum(1 for p in paragraphs if p.strip())
        nth = self.kwargs["nth_paragraph"]
        # IFEval indexes the raw split (empty pieces included) while counting only non-empty ones.
        if not 1 <= nth <= count:
            return False
        paragraph = paragraphs[nth - 1].strip()
        if not paragraph:
            return False
        word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
        first = ""
        for char in word:
            if char in _WORD_END:
                break
            first += char.lower()
        return count == self.kwargs["num_paragraphs"] and first == self.kwargs["first_word"].lower()
