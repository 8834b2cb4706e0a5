"""Property tests: numeric-kwarg checks honour 'less than' / 'at least' exactly at N-1, N and N+1."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignsmith.curate.verifiers import verify

WORDS = st.sampled_from(["river", "stone", "mild", "open", "garden", "tall", "blue", "quiet"])
THRESHOLD = st.integers(min_value=1, max_value=25)


def _relation_holds(relation: str, count: int, n: int) -> bool:
    return count < n if relation == "less than" else count >= n


def _check_boundary(instruction_id, kwargs_for, text_with_count, n):
    for count in (n - 1, n, n + 1):
        text = text_with_count(count)
        for relation in ("less than", "at least"):
            got = verify([instruction_id], [kwargs_for(n, relation)], text)[0]
            assert got == _relation_holds(relation, count, n), (instruction_id, relation, count, n, text)


@settings(max_examples=40, deadline=None)
@given(n=THRESHOLD, filler=WORDS)
def test_number_words_boundary(n, filler):
    _check_boundary("length_constraints:number_words",
                    lambda n, rel: {"num_words": n, "relation": rel},
                    lambda c: " ".join([filler] * c) if c else "!", n)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(min_value=2, max_value=15), filler=WORDS)
def test_number_sentences_boundary(n, filler):
    _check_boundary("length_constraints:number_sentences",
                    lambda n, rel: {"num_sentences": n, "relation": rel},
                    lambda c: " ".join(f"The {filler} thing number {i} is here." for i in range(c)), n)


@settings(max_examples=40, deadline=None)
@given(n=THRESHOLD, filler=WORDS)
def test_keyword_frequency_boundary(n, filler):
    _check_boundary("keywords:frequency",
                    lambda n, rel: {"keyword": "Lantern", "frequency": n, "relation": rel},
                    lambda c: " ".join([f"{filler} lantern"] * c + [filler]), n)


@settings(max_examples=40, deadline=None)
@given(n=THRESHOLD, letter=st.sampled_from(list("xzqjk")))
def test_letter_frequency_boundary(n, letter):
    _check_boundary("keywords:letter_frequency",
                    lambda n, rel: {"letter": letter.upper(), "let_frequency": n, "let_relation": rel},
                    lambda c: "a " + " ".join([letter] * c), n)


@settings(max_examples=30, deadline=None)
@given(n=THRESHOLD, filler=WORDS)
def test_capital_word_frequency_boundary(n, filler):
    _check_boundary("change_case:capital_word_frequency",
                    lambda n, rel: {"capital_frequency": n, "capital_relation": rel},
                    lambda c: " ".join(["NASA"] * c + [filler] * 3) + ".", n)


@settings(max_examples=30, deadline=None)
@given(n=THRESHOLD)
def test_at_least_counts_boundary(n):
    """Placeholders, highlights and sections only have 'at least': pass iff count >= N."""
    cases = [
        ("detectable_content:number_placeholders", {"num_placeholders": n}, lambda c: " ".join(["[name]"] * c)),
        ("detectable_format:number_highlighted_sections", {"num_highlights": n},
         lambda c: "\n".join(["*part*"] * c) + "\nend"),
        ("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": n},
         lambda c: "".join(f"Section {i + 1}\ntext\n" for i in range(c))),
    ]
    for instruction_id, kwargs, text_with_count in cases:
        for count in (n - 1, n, n + 1):
            assert verify([instruction_id], [kwargs], text_with_count(count) or "x")[0] == (count >= n)


@settings(max_examples=30, deadline=None)
@given(n=THRESHOLD)
def test_exact_counts_boundary(n):
    """Bullets and *** paragraphs must match N exactly."""
    for count in (n - 1, n, n + 1):
        bullets = "Intro\n" + "\n".join(f"* item {i}" for i in range(count))
        assert verify(["detectable_format:number_bullet_lists"], [{"num_bullets": n}], bullets)[0] == (count == n)
        paragraphs = " *** ".join(f"para {i}" for i in range(count)) or "x"
        expected = count == n or (count == 0 and n == 1)  # "x" is one paragraph
        assert verify(["length_constraints:number_paragraphs"], [{"num_paragraphs": n}],
                      paragraphs)[0] == expected


@pytest.mark.parametrize("n", [1, 5])
def test_boundary_holds_in_loose_mode_too(n):
    text = " ".join(["word"] * n)
    assert verify(["length_constraints:number_words"], [{"num_words": n, "relation": "at least"}], text,
                  mode="loose") == [True]
    assert verify(["length_constraints:number_words"], [{"num_words": n, "relation": "less than"}], text,
                  mode="loose") == [False]
