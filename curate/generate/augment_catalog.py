"""What `prompts augment` can attach: per IFEval instruction id, how to sample its kwargs and say it.

Also the conflict table: pairs of constraints that contradict or make each other unverifiable, so they
never appear on one prompt. Phrasings are our own, in plain English, two or three per type so augmented
prompts do not all read alike.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

Kwargs = dict
Sampler = Callable[[random.Random, str], Kwargs]  # (rng, base prompt text) -> kwargs


@dataclass(frozen=True)
class ConstraintTemplate:
    """How to attach one instruction type: sample kwargs, then phrase them as a sentence."""

    instruction_id: str
    sample: Sampler
    phrasings: tuple[str, ...]

    def phrase(self, kwargs: Kwargs, rng: random.Random) -> str:
        """One natural-language sentence for the constraint with these kwargs."""
        return rng.choice(self.phrasings).format(**kwargs, **_derived(kwargs))


def _derived(kwargs: Kwargs) -> dict:
    # Extra names the phrasings use: readable relations and lists.
    out = {}
    for key in ("relation", "let_relation", "capital_relation"):
        if key in kwargs:
            out[key + "_text"] = "fewer than" if kwargs[key] == "less than" else "at least"
    for key in ("keywords", "forbidden_words"):
        if key in kwargs:
            words = [f'"{w}"' for w in kwargs[key]]
            out[key + "_text"] = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    if "language" in kwargs:
        out["language_name"] = LANGUAGE_NAMES[kwargs["language"]]
    return out


# Word pools are disjoint so a keyword to include can never also be forbidden or counted down.
KEYWORD_POOL = ("lantern", "harbor", "compass", "meadow", "velvet", "orbit", "granite", "willow", "puzzle", "signal")
COUNTED_POOL = ("simple", "clear", "together", "future", "important", "balance")
FORBIDDEN_POOL = ("very", "really", "basically", "actually", "literally", "obviously", "stuff", "thing")
END_PHRASES = ("Is there anything else I can help with?", "Let me know if you have additional questions.",
               "That is all for now.", "Hope this helps!")
FIRST_WORDS = ("first", "overall", "today", "finally", "consider", "remember")
SECTION_WORDS = ("SECTION", "Section", "PART", "Step")


def _relation(rng: random.Random) -> str:
    return rng.choice(("less than", "at least"))


def _words(rng, _):
    relation = _relation(rng)
    choices = (150, 200, 300) if relation == "less than" else (40, 80, 120)
    return {"relation": relation, "num_words": rng.choice(choices)}


def _sentences(rng, _):
    relation = _relation(rng)
    return {"relation": relation, "num_sentences": rng.randint(6, 12) if relation == "less than" else rng.randint(2, 5)}


def _letter(rng, _):
    # "fewer than" only for rare letters and "at least" only for common ones, so both stay achievable.
    if rng.random() < 0.5:
        return {"letter": rng.choice("qzxj"), "let_relation": "less than", "let_frequency": rng.randint(3, 8)}
    return {"letter": rng.choice("aeiost"), "let_relation": "at least", "let_frequency": rng.randint(5, 15)}


def _pick(pool, base_text, rng, k):
    # Never ask to include/avoid a word the prompt itself uses (it would clash with repeating the prompt).
    usable = [w for w in pool if w not in base_text.lower()] or list(pool)
    return sorted(rng.sample(usable, min(k, len(usable))))


TEMPLATES: dict[str, ConstraintTemplate] = {t.instruction_id: t for t in (
    ConstraintTemplate("punctuation:no_comma", lambda r, p: {},
                       ("Do not use any commas in your response.", "Avoid commas entirely in your answer.")),
    ConstraintTemplate("change_case:english_lowercase", lambda r, p: {},
                       ("Write your whole answer in English using only lowercase letters; no capitals at all.",
                        "Your entire response should be in English and in all lowercase letters.")),
    ConstraintTemplate("change_case:english_capital", lambda r, p: {},
                       ("Write your whole answer in English using only capital letters.",
                        "Your entire response must be in English and in ALL CAPITAL LETTERS.")),
    ConstraintTemplate("change_case:capital_word_frequency",
                       lambda r, p: {"capital_relation": _relation(r), "capital_frequency": r.randint(2, 6)},
                       ("Use words written entirely in capital letters {capital_relation_text} {capital_frequency} "
                        "times.", "Include {capital_relation_text} {capital_frequency} words in ALL CAPS.")),
    ConstraintTemplate("detectable_format:json_format", lambda r, p: {},
                       ("Format your entire output as JSON; you may wrap it in ``` markdown fences.",
                        "Return the whole answer as valid JSON and nothing else.")),
    ConstraintTemplate("detectable_format:title", lambda r, p: {},
                       ("Give your answer a title wrapped in double angular brackets, like <<my title>>.",
                        "Start with a title inside double angle brackets, for example <<a short title>>.")),
    ConstraintTemplate("detectable_format:number_bullet_lists", lambda r, p: {"num_bullets": r.randint(2, 5)},
                       ("Your answer must contain exactly {num_bullets} markdown bullet points (lines starting "
                        "with an asterisk and a space).",
                        "Use exactly {num_bullets} bullet points in markdown, each on its own line.")),
    ConstraintTemplate("detectable_format:number_highlighted_sections",
                       lambda r, p: {"num_highlights": r.randint(1, 3)},
                       ("Highlight at least {num_highlights} sections with markdown, i.e. *highlighted section*.",
                        "Mark at least {num_highlights} parts of your answer as *highlighted text* with asterisks.")),
    ConstraintTemplate("detectable_format:multiple_sections",
                       lambda r, p: {"section_spliter": r.choice(SECTION_WORDS), "num_sections": r.randint(2, 4)},
                       ("Split your response into {num_sections} sections, starting each with "
                        "\"{section_spliter} X\", where X is the section's number.",
                        "Organise the answer in {num_sections} parts, each beginning with {section_spliter} "
                        "followed by its number.")),
    ConstraintTemplate("detectable_format:constrained_response", lambda r, p: {},
                       ("Answer with one of these options: \"My answer is yes.\", \"My answer is no.\" or "
                        "\"My answer is maybe.\"",)),
    ConstraintTemplate("detectable_content:postscript",
                       lambda r, p: {"postscript_marker": r.choice(("P.S.", "P.P.S"))},
                       ("At the end of your response, add a postscript starting with \"{postscript_marker}\".",
                        "Finish with a postscript that begins with \"{postscript_marker}\".")),
    ConstraintTemplate("detectable_content:number_placeholders", lambda r, p: {"num_placeholders": r.randint(1, 4)},
                       ("Include at least {num_placeholders} placeholders in square brackets, such as [name].",
                        "The response must contain at least {num_placeholders} placeholders like [address].")),
    ConstraintTemplate("length_constraints:number_words", _words,
                       ("Answer with {relation_text} {num_words} words.",
                        "Keep your response to {relation_text} {num_words} words.")),
    ConstraintTemplate("length_constraints:number_sentences", _sentences,
                       ("Your response should contain {relation_text} {num_sentences} sentences.",
                        "Write {relation_text} {num_sentences} sentences.")),
    ConstraintTemplate("length_constraints:number_paragraphs", lambda r, p: {"num_paragraphs": r.randint(2, 4)},
                       ("Write exactly {num_paragraphs} paragraphs, separated from each other by the markdown "
                        "divider ***.",)),
    ConstraintTemplate("length_constraints:nth_paragraph_first_word",
                       lambda r, p: (lambda n: {"num_paragraphs": n, "nth_paragraph": r.randint(2, n),
                                                "first_word": r.choice(FIRST_WORDS)})(r.randint(2, 4)),
                       ("Write exactly {num_paragraphs} paragraphs separated by blank lines; paragraph "
                        "{nth_paragraph} must start with the word \"{first_word}\".",)),
    ConstraintTemplate("keywords:existence", lambda r, p: {"keywords": _pick(KEYWORD_POOL, p, r, r.randint(1, 2))},
                       ("Include the keywords {keywords_text} in your response.",
                        "Make sure to use the words {keywords_text} somewhere in your answer.")),
    ConstraintTemplate("keywords:frequency",
                       lambda r, p: {"keyword": _pick(COUNTED_POOL, p, r, 1)[0], "relation": _relation(r),
                                     "frequency": r.randint(2, 4)},
                       ("The word \"{keyword}\" should appear {relation_text} {frequency} times.",
                        "Use the word \"{keyword}\" {relation_text} {frequency} times.")),
    ConstraintTemplate("keywords:forbidden_words",
                       lambda r, p: {"forbidden_words": _pick(FORBIDDEN_POOL, p, r, r.randint(1, 3))},
                       ("Do not use the words {forbidden_words_text}.",
                        "Avoid the words {forbidden_words_text} in your response.")),
    ConstraintTemplate("keywords:letter_frequency", _letter,
                       ("The letter \"{letter}\" should appear {let_relation_text} {let_frequency} times.",
                        "Use the letter \"{letter}\" {let_relation_text} {let_frequency} times in your answer.")),
    ConstraintTemplate("language:response_language",
                       lambda r, p: {"language": r.choice(("de", "fr", "es", "it"))},
                       ("Respond only in {language_name}; no other language is allowed.",)),
    ConstraintTemplate("startend:end_checker", lambda r, p: {"end_phrase": r.choice(END_PHRASES)},
                       ("End your response with the exact phrase \"{end_phrase}\" and nothing after it.",
                        "Finish your answer with this exact phrase: \"{end_phrase}\".")),
    ConstraintTemplate("startend:quotation", lambda r, p: {},
                       ("Wrap your entire response in double quotation marks.",
                        "Put your whole answer inside double quotes.")),
    ConstraintTemplate("combination:two_responses", lambda r, p: {},
                       ("Give two different responses, separated by six asterisks: ******",)),
    ConstraintTemplate("combination:repeat_prompt", lambda r, p: {"prompt_to_repeat": p},
                       ("First repeat the request above word for word without change, then give your answer "
                        "(do not say anything before repeating it, and do not repeat this sentence).",)),
)}

LANGUAGE_NAMES = {"de": "German", "fr": "French", "es": "Spanish", "it": "Italian"}

# Instruction types that only make sense for particular prompts (yes/no questions) are left out of the
# default pool; `allowed_ids` can still ask for them.
DEFAULT_EXCLUDED = frozenset({"detectable_format:constrained_response"})

_STRUCTURE = ("detectable_format:json_format", "combination:two_responses", "length_constraints:number_paragraphs",
              "length_constraints:nth_paragraph_first_word", "detectable_format:multiple_sections")

# Pairs that contradict each other or make one check unverifiable; order within a pair does not matter.
CONFLICTS: frozenset[frozenset[str]] = frozenset(frozenset(p) for p in [
    # JSON output leaves no room for commas-free lists, titles, bullets, markdown, postscripts or framing text.
    *[("detectable_format:json_format", other) for other in (
        "punctuation:no_comma", "detectable_format:title", "detectable_format:number_bullet_lists",
        "detectable_format:number_highlighted_sections", "detectable_content:postscript", "startend:quotation",
        "startend:end_checker", "detectable_format:constrained_response",
        "length_constraints:number_sentences")],
    # Different, incompatible ideas of how the response is divided up.
    *[(a, b) for i, a in enumerate(_STRUCTURE) for b in _STRUCTURE[i + 1:]],
    ("combination:two_responses", "detectable_format:number_bullet_lists"),
    ("combination:two_responses", "detectable_content:postscript"),
    # Letter case.
    ("change_case:english_lowercase", "change_case:english_capital"),
    ("change_case:english_lowercase", "change_case:capital_word_frequency"),
    ("change_case:english_capital", "change_case:capital_word_frequency"),
    ("change_case:english_lowercase", "detectable_content:postscript"),        # "P.S." is upper case
    ("change_case:english_lowercase", "detectable_format:multiple_sections"),  # SECTION / Section markers
    ("change_case:english_capital", "detectable_format:multiple_sections"),
    ("change_case:english_lowercase", "detectable_format:constrained_response"),
    ("change_case:english_capital", "detectable_format:constrained_response"),
    # "* item" bullets and "*highlight*" lines look alike to the checks.
    ("detectable_format:number_bullet_lists", "detectable_format:number_highlighted_sections"),
    # The postscript must be last, and so must the end phrase.
    ("detectable_content:postscript", "startend:end_checker"),
    # A non-English answer cannot also be English, or carry English words and letter counts reliably.
    *[("language:response_language", other) for other in (
        "change_case:english_lowercase", "change_case:english_capital", "change_case:capital_word_frequency",
        "startend:end_checker", "length_constraints:nth_paragraph_first_word",
        "keywords:existence", "keywords:frequency", "keywords:letter_frequency",
        "detectable_format:constrained_response", "detectable_format:json_format")],
])


# Types that combine only with the listed ones. Repeating the prompt copies every other constraint's wording
# into the response, which satisfies some checks for free (keywords, "P.S.", "<<title>>", "[name]") and
# breaks others (commas, case, counts, paragraphs, quotes), so it pairs with a few structural checks only.
ONLY_WITH: dict[str, frozenset[str]] = {
    "combination:repeat_prompt": frozenset({"startend:end_checker", "detectable_format:number_bullet_lists",
                                            "detectable_format:multiple_sections"}),
}


def conflicts(a: str, b: str) -> bool:
    """True when instruction types `a` and `b` must not be attached to the same prompt."""
    if a == b or frozenset((a, b)) in CONFLICTS:
        return True
    return (a in ONLY_WITH and b not in ONLY_WITH[a]) or (b in ONLY_WITH and a not in ONLY_WITH[b])
