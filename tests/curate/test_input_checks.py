"""Issue 13 items 4, 6, 7, 10: misconfiguration and bad files fail before work, naming file, line and field."""
import json

import pytest

from alignsmith.curate.core.datafiles import read_rows
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.quarantine import read_rows_quarantined
from alignsmith.train.cli import main


def _candidates(path):
    rows = [{"prompt_id": f"p{i}", "candidate_id": f"c{i}", "prompt": "Say hi.",
             "response": f"Hello number {i}, nice to meet you.", "finish_reason": "stop"} for i in range(4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("yaml_text, expected", [
    ("- filter: repetition\n  ngram_sise: 3\n", "did you mean 'ngram_size'"),
    ("- filter: repetition\n  ngram_size: four\n", "field 'ngram_size'"),
    ("- filter: empty\n- filter: [truncated\n", "at line 2"),
    ("stepz:\n  - filter: empty\n", "did you mean 'steps'"),
])
def test_curate_config_mistakes_exit_2_without_a_folder(tmp_path, capsys, yaml_text, expected):
    cfg = tmp_path / "curate.yaml"
    cfg.write_text(yaml_text)
    out = tmp_path / "out"
    code = main(["curate", "--input", str(_candidates(tmp_path / "c.jsonl")), "--config", str(cfg),
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err
    assert not out.exists()


def test_text_field_absent_from_every_row_is_an_error_before_work(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["curate", "--input", str(_candidates(tmp_path / "c.jsonl")), "--text-field", "respons",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "'respons'" in err and "did you mean 'response'" in err
    assert not out.exists()


def test_dedup_text_field_absent_is_an_error(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["curate", "dedup", "--input", str(_candidates(tmp_path / "c.jsonl")), "--text-field", "txt",
                 "--out", str(out)])
    assert code == 2 and "'txt'" in capsys.readouterr().err and not out.exists()


def test_utf8_bom_is_accepted_in_jsonl_and_json(tmp_path):
    jl = tmp_path / "p.jsonl"
    jl.write_bytes(b'\xef\xbb\xbf{"prompt": "first"}\n{"prompt": "second"}\n')
    js = tmp_path / "p.json"
    js.write_bytes(b'\xef\xbb\xbf[{"prompt": "first"}]')
    assert [r["prompt"] for r in read_rows(jl)] == ["first", "second"]
    assert read_rows(js) == [{"prompt": "first"}]
    rows, bad = read_rows_quarantined(jl)
    assert [r["prompt"] for r in rows] == ["first", "second"] and bad == []


def test_json_and_csv_errors_name_file_and_line(tmp_path):
    js = tmp_path / "bad.json"
    js.write_text('[{"prompt": "a"},\n {"prompt": }]')
    with pytest.raises(InputError) as e:
        read_rows(js)
    assert e.value.path == str(js) and e.value.line == 2
    csv = tmp_path / "bad.csv"
    csv.write_text('prompt,x\n"a",1\n"b",2,3\n')
    with pytest.raises(InputError) as e:
        read_rows(csv)
    assert e.value.path == str(csv) and e.value.line == 3
