"""Format filters: each drops what it should, keeps what it should, and says why."""
from __future__ import annotations

import json

import pytest

from alignsmith.curate.pipeline.run import run_steps_local
from alignsmith.curate.steps import format_filters  # noqa: F401  (registers the filters)
from alignsmith.curate.steps.base import FILTERS


def reject(name, row, **opts):
    return FILTERS.get(name)(**opts).reject(row)


def row(response, **extra):
    return {"prompt_id": "p", "candidate_id": "c", "response": response, "finish_reason": "stop", **extra}


@pytest.mark.parametrize("value,expected", [
    ("", "empty"), ("  \n\t ", "empty"), (None, "no 'response'"), (12, "int, not text"), ("Hi.", None)])
def test_empty(value, expected):
    reason = reject("empty", row(value))
    assert (reason is None) if expected is None else (expected in reason)


def test_empty_missing_field():
    assert "no 'response'" in reject("empty", {"candidate_id": "c"})


def test_truncated():
    assert "length" in reject("truncated", row("Once upon", finish_reason="length"))
    assert "skipped: prompt too long" in reject("truncated", row("", finish_reason="skipped: prompt too long"))
    assert reject("truncated", row("Done.", finish_reason="stop")) is None


@pytest.mark.parametrize("text", [
    "Sure!<|im_end|>\n<|im_start|>user\nmore", "The answer is 4.</s>", "ok <|endoftext|>",
    "Paris is the capital.\nuser\nWhat about Spain?", "Here you go.\nAssistant: anything else?",
    "Fine.\n\nHuman: thanks"])
def test_leakage_caught(text):
    assert reject("leakage", row(text)) is not None


@pytest.mark.parametrize("text", [
    "The user interface has three panels.", "As an assistant, I can help.",
    "Use `</div>` to close a div.", "Users: 3 active"])
def test_leakage_clean(text):
    assert reject("leakage", row(text)) is None


def test_leakage_custom_tokens():
    assert reject("leakage", row("text [END]"), tokens=["[END]"]) is not None
    assert reject("leakage", row("text </s>"), tokens=["[END]"]) is None


def test_repetition_lines_and_ngrams_and_loops():
    looping = "\n".join(["I am a helpful assistant."] * 6)
    assert "lines repeat" in reject("repetition", row(looping))
    one_line = " ".join(["the cat sat on the mat and then"] * 10)
    assert "4-grams are repeats" in reject("repetition", row(one_line))
    assert "repeated" in reject("repetition", row("Great" + "!" * 40))
    natural = ("Bread needs flour, water, salt and yeast. Mix them, knead for ten minutes, let the dough "
               "rise for an hour, shape it, proof again, then bake at 230 C until the crust is deep brown.")
    assert reject("repetition", row(natural)) is None
    # thresholds are options
    assert reject("repetition", row(one_line), max_repeated_ngram_fraction=0.99, max_char_loop=0) is None


def test_language_follows_prompt_and_instruction():
    prompt = [{"role": "user", "content": "Please explain in a few sentences how photosynthesis works in plants."}]
    english = "Plants capture sunlight with chlorophyll and turn water and carbon dioxide into sugar and oxygen."
    german = "Pflanzen fangen Sonnenlicht mit Chlorophyll ein und wandeln Wasser und Kohlendioxid in Zucker um."
    assert reject("language", row(english, prompt=prompt)) is None
    assert "'de'" in reject("language", row(german, prompt=prompt))
    asked_de = row(german, prompt=prompt, instruction_id_list=["language:response_language"],
                   kwargs=[{"language": "de"}])
    assert reject("language", asked_de) is None
    assert reject("language", row("Ja, klar.", prompt=prompt)) is None  # too short to judge


def test_language_is_deterministic():
    prompt = [{"role": "user", "content": "Describe the weather in spring in northern Europe, please."}]
    text = "Le printemps est doux, avec des pluies fréquentes et des journées qui rallongent vite."
    results = {reject("language", row(text, prompt=prompt)) for _ in range(5)}
    assert len(results) == 1 and "'fr'" in results.pop()


def test_json_only_when_asked():
    asked = dict(instruction_id_list=["detectable_format:json_format"], kwargs=[{}],
                 prompt=[{"role": "user", "content": "Answer in JSON."}])
    assert reject("json_format", row('```json\n{"a": 1}\n```', **asked)) is None
    assert "not valid JSON" in reject("json_format", row("{'a': 1,}", **asked))
    assert reject("json_format", row("not json at all")) is None  # prompt did not ask
    assert reject("json_format", row("nope"), always=True) is not None


def test_markdown_fences():
    assert "unclosed" in reject("markdown", row("Code:\n```python\nprint(1)\n"))
    assert reject("markdown", row("Code:\n```python\nprint(1)\n```\nDone.")) is None


def test_length_bounds_words_and_tokens():
    r = row("one two three four five", completion_tokens=7)
    assert "< min 10" in reject("length", r, min_words=10)
    assert "> max 3" in reject("length", r, max_words=3)
    assert reject("length", r, min_words=2, max_words=10) is None
    assert "7 tokens > max 5" == reject("length", r, max_tokens=5)
    with pytest.raises(ValueError, match="completion_tokens"):
        reject("length", row("no counts"), max_tokens=5)


def test_funnel_counts_every_filter_in_order():
    rows = [row(""), row("fine answer here"), row("cut", finish_reason="length"), row("x</s>")]
    filters = [FILTERS.get(n)() for n in ("empty", "truncated", "leakage", "repetition")]
    kept, dropped, funnel = run_steps_local(rows, [("filter", f.name, f) for f in filters])
    assert [r["response"] for r in kept] == ["fine answer here"]
    assert [(s["step"], s["rows_in"], s["dropped"], s["rows_after"]) for s in funnel] == [
        ("empty", 4, 1, 3), ("truncated", 3, 1, 2), ("leakage", 2, 1, 1), ("repetition", 1, 0, 1)]
    assert sorted(d["drop_reason"].split(":")[0] for d in dropped) == ["empty", "leakage", "truncated"]
    json.dumps(dropped)  # dropped rows stay serialisable


def test_repetition_ignores_markdown_layout_runs():
    table = "| name | value |\n|" + "-" * 30 + "|" + "-" * 30 + "|\n| a | 1 |\n\nTitle\n" + "=" * 40 + "\nBody text."
    assert reject("repetition", row(table)) is None
    assert reject("repetition", row(table + " ha" * 30)) is not None


def test_language_allows_requested_translation():
    prompt = [{"role": "user", "content": "Please translate into German: the weather is lovely today and we walk."}]
    german = "Das Wetter ist heute herrlich und wir gehen im Park spazieren, bis die Sonne untergeht."
    assert reject("language", row(german, prompt=prompt)) is None


def test_default_filters_keep_real_gpt4_answers(shared_data):
    """Good real answers (GPT-4 on IFEval and AlpacaEval) mostly pass the default format filters."""
    from alignsmith.curate.pipeline.run import curate_rows
    rows = [row(json.loads(line)["response"])
            for line in open(shared_data / "ifeval/input_response_data_gpt4_20231107_145030.jsonl")]
    gpt4 = json.load(open(shared_data / "alpaca_eval/gpt4_1106_preview_model_outputs.json"))
    rows += [row(r["output"]) for r in gpt4]
    kept, dropped, _ = curate_rows(rows)
    assert len(dropped) / len(rows) <= 0.01, [d["drop_reason"] for d in dropped]
    davinci = json.load(open(shared_data / "alpaca_eval/text_davinci_003_model_outputs.json"))
    assert reject("repetition", row(davinci[294]["output"])) is not None  # "BZBZBZ…" degenerate output


def test_language_batch_detects_each_prompt_once(monkeypatch):
    """n candidates of one prompt: the prompt's language is detected once, and a response only where the
    prompt's language is known (a short prompt leaves nothing to compare with)."""
    from alignsmith.curate.steps import format_filters
    seen = []
    real = format_filters.detect_languages

    def counting(texts, seed=0):
        seen.extend(texts)
        return real(texts, seed)

    monkeypatch.setattr(format_filters, "detect_languages", counting)
    prompt = [{"role": "user", "content": "Please explain in a few sentences how photosynthesis works in plants."}]
    short = [{"role": "user", "content": "Why?"}]
    answers = ["Plants capture sunlight with chlorophyll and turn water and carbon dioxide into sugar.",
               "Pflanzen fangen Sonnenlicht mit Chlorophyll ein und wandeln Wasser in Zucker um, sagt man."]
    unchecked = "Wasser und Kohlendioxid werden in den Blättern mit Licht zu Zucker und Sauerstoff umgewandelt."
    rows = [row(a, prompt=prompt) for a in answers * 2] + [row(unchecked, prompt=short)]
    reasons = FILTERS.get("language")(workers=1).reject_batch(rows)
    assert [r is None for r in reasons] == [True, False, True, False, True]
    assert seen[0] == prompt[0]["content"] and seen.count(seen[0]) == 1
    assert sorted(seen[1:]) == sorted(answers)  # each distinct response once; none under the short prompt


def test_language_process_pool_matches_one_row_at_a_time(shared_data, monkeypatch):
    """Real answers in many languages (GPT-4 on IFEval, where prompts ask for Hindi, Korean, ...) under
    English prompts: the batch spread over 2 processes drops exactly the rows, with the reasons, that
    checking one row at a time does."""
    data = [json.loads(line) for line in open(shared_data / "ifeval/input_response_data_gpt4_20231107_145030.jsonl")]
    prompts = {json.loads(line)["prompt"]: json.loads(line)
               for line in open(shared_data / "ifeval/input_data.jsonl")}
    rows = []
    for d in data:
        p = prompts[d["prompt"]]
        chat = [{"role": "user", "content": d["prompt"]}]
        rows.append(row(d["response"], prompt=chat))  # no instruction: other languages are dropped
        rows.append(row(d["response"], prompt=chat, instruction_id_list=p["instruction_id_list"],
                        kwargs=p["kwargs"]))
    language = FILTERS.get("language")
    import concurrent.futures
    pools = []

    class CountingPool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountingPool)
    pooled = language(workers=2).reject_batch(rows)
    assert pools == [(2,), (2,)]  # both the prompts and the responses went through 2 worker processes
    one_by_one = [language(workers=1).reject(r) for r in rows]
    assert pooled == one_by_one
    dropped = [r for r in pooled if r]
    assert 10 <= len(dropped) <= 100, dropped  # the prompts that ask for another language, without the ask
