"""Records, row files and atomic writes."""
import json
import os

import pytest

from alignsmith.curate.core.datafiles import (
    atomic_write_with,
    iter_rows,
    read_parquet,
    read_rows,
    write_jsonl,
    write_parquet,
)
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import make_pair_row, make_prompt_row, normalise_text, prompt_id


def test_prompt_id_is_stable_under_case_and_whitespace():
    assert prompt_id("Hello   World") == prompt_id("hello world")
    assert prompt_id("hello world") != prompt_id("hello world!")
    assert prompt_id([{"role": "user", "content": "x"}]) == prompt_id("x")


def test_normalise_text_folds_unicode_width():
    assert normalise_text("ＡＢＣ  d") == "abc d"


def test_make_prompt_row_fills_kwargs_and_strips_none():
    row = make_prompt_row("Say hi", instruction_id_list=["a:b", "c:d"], kwargs=[{"x": 1, "y": None}, {}])
    assert row["kwargs"] == [{"x": 1}, {}]
    assert row["prompt"] == [{"role": "user", "content": "Say hi"}]


def test_pair_row_is_trl_conversational_with_provenance():
    c = {"prompt_id": "p", "candidate_id": "c1", "response": "good", "score": 1.0}
    r = {"prompt_id": "p", "candidate_id": "c2", "response": "bad", "score": 0.5}
    pair = make_pair_row([{"role": "user", "content": "q"}], c, r, strategy="best_vs_worst")
    assert pair["chosen"] == [{"role": "assistant", "content": "good"}]
    assert pair["margin"] == pytest.approx(0.5)
    assert (pair["chosen_id"], pair["rejected_id"]) == ("c1", "c2")


def test_jsonl_malformed_line_names_file_and_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"prompt": "a"}\n{"prompt": oops}\n')
    with pytest.raises(InputError) as e:
        read_rows(p)
    assert f"{p}:2" in str(e.value)


def test_jsonl_invalid_utf8_names_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"prompt": "a"}\n{"prompt": "\xff"}\n')
    with pytest.raises(InputError, match=":2"):
        read_rows(p)


def test_csv_rows_report_file_line_numbers(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("prompt,label\nhi,safe\nbye,unsafe\n")
    assert [n for n, _ in iter_rows(p)] == [2, 3]


def test_parquet_roundtrip_with_heterogeneous_structs(tmp_path):
    rows = [{"a": 1, "kw": [{"x": 1}]}, {"a": 2, "kw": [{"y": "z"}]}]
    write_parquet(tmp_path / "r.parquet", rows)
    back = read_parquet(tmp_path / "r.parquet")
    assert back[0]["kw"][0]["x"] == 1 and back[1]["kw"][0]["y"] == "z"


def test_corrupt_parquet_is_an_input_error(tmp_path):
    p = tmp_path / "bad.parquet"
    p.write_bytes(b"PAR1garbage")
    with pytest.raises(InputError, match="bad.parquet"):
        read_parquet(p)


def test_atomic_write_leaves_no_file_when_writer_crashes(tmp_path):
    target = tmp_path / "out.jsonl"

    def boom(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        atomic_write_with(target, boom)
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_write_jsonl_roundtrip(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"k": "é"}])
    assert json.loads((tmp_path / "a.jsonl").read_text(encoding="utf-8")) == {"k": "é"}


def test_parquet_keeps_columns_that_only_later_rows_have(tmp_path):
    write_parquet(tmp_path / "r.parquet", [{"a": 1}, {"a": 2, "b": "x"}])
    back = read_parquet(tmp_path / "r.parquet")
    assert back == [{"a": 1, "b": None}, {"a": 2, "b": "x"}]


def test_parquet_stores_all_empty_kwargs_as_nulls(tmp_path):
    from alignsmith.curate.core.records import clean_kwargs
    write_parquet(tmp_path / "r.parquet", [{"kwargs": [{}]}, {"kwargs": [{}, {}]}])
    back = read_parquet(tmp_path / "r.parquet")
    assert [[clean_kwargs(k) for k in r["kwargs"]] for r in back] == [[{}], [{}, {}]]


def test_prompt_text_reads_strings_chats_and_parquet_arrays():
    import numpy as np

    from alignsmith.curate.core.records import prompt_text
    chat = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"}, {"role": "user", "content": "and now?"}]
    assert prompt_text("plain") == "plain"
    assert prompt_text(chat) == "and now?"                      # the last user turn, not the last turn
    assert prompt_text(np.array(chat, dtype=object)) == "and now?"  # what Parquet hands back
    assert prompt_text(None) == "" and prompt_text([], default=None) is None
    with pytest.raises(KeyError):
        prompt_text([{"content": "no role"}])
