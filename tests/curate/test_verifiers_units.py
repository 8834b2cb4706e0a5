"""Verifier behaviour on hand-made responses, loose mode, bad input, and the scorer/filter wrappers."""
from __future__ import annotations

import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import make_prompt_row
from alignsmith.curate.pipeline.run import run_steps_local
from alignsmith.curate.steps.base import FILTERS
from alignsmith.curate.steps.scoring import SCORERS, apply_scorers
from alignsmith.curate.verifiers import (
    VERIFIERS,
    PunktDataMissingError,
    VerifierError,
    constraint_report,
    loose_variants,
    verify,
)


def one(instruction_id, kwargs, response, mode="strict"):
    return verify([instruction_id], [kwargs], response, mode=mode)[0]


@pytest.mark.parametrize("instruction_id,kwargs,good,bad", [
    ("punctuation:no_comma", {}, "No commas here.", "One, two."),
    ("keywords:existence", {"keywords": ["Moon", "tide"]}, "The moon moves the TIDE.", "The moon is bright."),
    ("keywords:forbidden_words", {"forbidden_words": ["cat"]}, "Concatenate strings.", "My Cat sleeps."),
    ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', '{"a": 1} trailing'),
    ("detectable_format:title", {}, "<<Poem of Joy>>\nlines", "<< >> no title"),
    ("detectable_format:constrained_response", {}, "Well. My answer is maybe.", "My answer is perhaps."),
    ("startend:quotation", {}, ' "quoted" ', '"open only'),
    ("startend:end_checker", {"end_phrase": "Any questions?"}, 'Done. any questions?"', "Any questions? Yes."),
    ("combination:two_responses", {}, "first\n******\nsecond", "same\n******\nsame"),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "say hi. Hi!", "Hi! Say hi."),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Body\n\nP.P.S. bye", "Body\nPS bye"),
    ("detectable_content:postscript", {"postscript_marker": "Note:"}, "Body\nnote: more", "Body\nNo te: x"),
    ("change_case:english_lowercase", {}, "this is an english sentence about the weather today.",
     "This is an English sentence."),
    ("change_case:english_capital", {}, "THIS IS AN ENGLISH SENTENCE ABOUT THE WEATHER TODAY.",
     "THIS IS mostly UPPER."),
    ("language:response_language", {"language": "de"},
     "Das ist ein kurzer deutscher Satz über das Wetter und die Berge.",
     "This is a short English sentence about the weather and mountains."),
    ("length_constraints:nth_paragraph_first_word",
     {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "Then"}, "First.\n\n\"Then, more.", "First.\n\nAfter."),
])
def test_verifier_pass_and_fail(instruction_id, kwargs, good, bad):
    assert one(instruction_id, kwargs, good) is True
    assert one(instruction_id, kwargs, bad) is False


def test_registry_has_the_25_ifeval_types():
    assert len(VERIFIERS.names()) == 25


def test_empty_response_fails_everything_even_vacuous_checks():
    assert verify(["punctuation:no_comma", "keywords:forbidden_words"], [{}, {"forbidden_words": ["x"]}],
                  "   \n") == [False, False]


def test_loose_mode_forgives_first_line_and_asterisks():
    response = "Sure, here it is:\n**hello world**"
    assert one("punctuation:no_comma", {}, response) is False
    assert one("punctuation:no_comma", {}, response, mode="loose") is True
    assert len(loose_variants("a\nb\nc")) == 8
    assert "a\nb\nc".replace("*", "") in loose_variants("a\nb\nc")


def test_none_kwargs_are_ignored_and_ints_may_arrive_as_floats():
    kwargs = {"num_words": 3.0, "relation": "at least", "keywords": None, "letter": None}
    assert one("length_constraints:number_words", kwargs, "one two three") is True


@pytest.mark.parametrize("ids,kwargs,response,fragment", [
    (["punctuation:no_coma"], [{}], "x", "Did you mean 'punctuation:no_comma'"),
    (["length_constraints:number_words"], [{"num_words": "300", "relation": "at least"}], "x", "expected int"),
    (["length_constraints:number_words"], [{"num_words": True, "relation": "at least"}], "x", "expected int"),
    (["length_constraints:number_words"], [{"num_words": 3, "relation": "more than"}], "x", "must be one of"),
    (["length_constraints:number_words"], [{"num_words": 3}], "x", "missing kwarg"),
    (["punctuation:no_comma"], [{"n": 1}], "x", "unknown kwarg"),
    (["keywords:existence"], [{"keywords": "moon"}], "x", "list of strings"),
    (["keywords:letter_frequency"], [{"letter": "ab", "let_frequency": 1, "let_relation": "at least"}], "x",
     "one character"),
    (["punctuation:no_comma"], [{}], None, "must be a string"),
    (["punctuation:no_comma"], [{}], ["a list"], "must be a string"),
    (["punctuation:no_comma", "startend:quotation"], [{}], "x", "2 instruction ids but 1 kwargs"),
])
def test_bad_input_is_an_error_naming_prompt_and_instruction(ids, kwargs, response, fragment):
    with pytest.raises(VerifierError) as info:
        verify(ids, kwargs, response, key=1234)
    message = str(info.value)
    assert fragment in message
    assert "1234" in message
    assert isinstance(info.value, InputError)
    if len(ids) == 1:
        assert ids[0] in message


def test_bad_mode_is_rejected():
    with pytest.raises(VerifierError, match="mode"):
        verify(["punctuation:no_comma"], [{}], "x", mode="lenient")


def _row(response, ids=("punctuation:no_comma", "startend:quotation"), kwargs=({}, {})):
    row = make_prompt_row("Answer without commas, in quotes.", instruction_id_list=list(ids), kwargs=list(kwargs))
    return {**row, "candidate_id": f"c-{len(response)}", "response": response}


def test_constraint_report_fraction_and_verdicts():
    report = constraint_report(_row('"a, b"'), '"a, b"')
    assert report == {"verdicts": {"punctuation:no_comma": False, "startend:quotation": True},
                      "constraints_met": 0.5}
    assert constraint_report(make_prompt_row("plain"), "anything")["constraints_met"] == 1.0


def test_repeat_prompt_without_kwarg_uses_the_prompt_text():
    row = _row("x", ids=["combination:repeat_prompt"], kwargs=[{}])
    assert constraint_report(row, "Answer without commas, in quotes. OK")["verdicts"] == {
        "combination:repeat_prompt": True}


def test_scorer_writes_scores_and_verdicts():
    rows = [_row('"no commas"'), _row("a, b")]
    rows[0]["verdicts"] = {"refusal": False}
    apply_scorers(rows, {"verifiers": SCORERS.get("verifiers")()})
    assert [r["scores"]["verifiers"] for r in rows] == [1.0, 0.0]
    assert rows[0]["verdicts"] == {"refusal": False, "punctuation:no_comma": True, "startend:quotation": True}


def test_constraints_filter_drops_with_reason_and_honours_require():
    rows = [_row('"no commas"'), _row('"a, b"'), _row("plain text")]
    kept, dropped, _ = run_steps_local(rows, [("filter", "constraints", FILTERS.get("constraints")())])
    assert [r["response"] for r in kept] == ['"no commas"']
    assert dropped[0]["drop_reason"] == "constraints: failed punctuation:no_comma (strict)"
    kept, dropped, _ = run_steps_local(rows, [("filter", "constraints",
                                                FILTERS.get("constraints")(require=["startend:quotation"]))])
    assert len(kept) == 2 and dropped[0]["response"] == "plain text"
    with pytest.raises(VerifierError, match="Did you mean"):
        FILTERS.get("constraints")(require=["startend:quotaton"])


def test_missing_punkt_data_says_how_to_provide_it(tmp_path, monkeypatch):
    import nltk

    from alignsmith.curate.verifiers.text import sentence_splitter
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    monkeypatch.setenv("ALIGNSMITH_CACHE", str(tmp_path / "empty-cache"))  # where `models --prepare` puts it
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    sentence_splitter.cache_clear()
    try:
        with pytest.raises(PunktDataMissingError) as info:
            verify(["length_constraints:number_sentences"], [{"num_sentences": 1, "relation": "at least"}], "Hi.")
    finally:
        sentence_splitter.cache_clear()
    message = str(info.value)
    assert "NLTK_DATA" in message and "nltk.downloader punkt_tab" in message and str(tmp_path) in message
    assert "alignsmith models --prepare" in message
    assert isinstance(info.value, FileNotFoundError)  # the CLI prints it as one line


def test_rows_round_tripped_through_parquet_still_verify(tmp_path):
    """Arrow fills absent kwargs struct fields with None; those must be ignored, not rejected."""
    from alignsmith.curate.core.datafiles import read_parquet, write_parquet
    rows = [_row("one two three", ids=["length_constraints:number_words", "punctuation:no_comma"],
                 kwargs=[{"num_words": 3, "relation": "at least"}, {}]),
            _row("<<t>>", ids=["detectable_format:title"], kwargs=[{}])]
    write_parquet(tmp_path / "rows.parquet", rows)
    back = read_parquet(tmp_path / "rows.parquet")
    assert any(v is None for k in back[0]["kwargs"] for v in k.values())  # Arrow did fill in Nones
    assert [constraint_report(r, r["response"])["constraints_met"] for r in back] == [1.0, 1.0]


def test_nth_paragraph_counts_from_one():
    with pytest.raises(VerifierError, match="counts from 1"):
        one("length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": 2, "nth_paragraph": 0, "first_word": "a"}, "a")
