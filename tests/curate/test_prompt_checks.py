"""Issue 13 items 6, 9, 11, 14: prompt files and training datasets fail clearly; set-aside rows are reported."""
import json

import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.curate.generate.prompts import load_prompts
from alignsmith.train.cli import main


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.mark.parametrize("messages, expected", [
    ([{"role": "usr", "content": "hi"}], "unknown chat role(s) 'usr'"),
    ([{"role": "system", "content": "be nice"}, {"role": "assistant", "content": "hello"}], "no user turn"),
])
def test_chat_prompts_with_unknown_roles_or_no_user_turn_are_refused(tmp_path, messages, expected):
    path = _jsonl(tmp_path / "p.jsonl", [{"prompt": "fine"}, {"prompt": messages}])
    with pytest.raises(InputError) as e:
        load_prompts(path)
    assert expected in str(e.value) and e.value.line == 2 and e.value.field == "prompt"


def test_a_users_prompt_id_is_kept_next_to_the_stable_id(tmp_path):
    rows, _ = load_prompts(_jsonl(tmp_path / "p.jsonl", [{"prompt_id": "q-17", "prompt": "Say hi."}]))
    assert rows[0]["user_prompt_id"] == "q-17" and rows[0]["prompt_id"].startswith("p-")


def test_quarantine_with_every_row_bad_is_refused_before_any_folder(tmp_path, capsys):
    path = _jsonl(tmp_path / "p.jsonl", [{"prompt": ""}, {"text_x": 1}])
    out = tmp_path / "gen"
    assert main(["generate", "--prompts", path, "--backend", "hf", "--model", str(tmp_path / "no-model"),
                 "--quarantine", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no usable prompts: all 2 rows were rejected" in err and not out.exists()


def test_generate_summary_says_how_many_rows_were_set_aside(tiny_llama, tmp_path, capsys):
    path = _jsonl(tmp_path / "p.jsonl", [{"prompt": "Say hi."}, {"prompt": "Say hi."}, {"prompt": ""}])
    out = tmp_path / "gen"
    assert main(["generate", "--prompts", path, "--backend", "hf", "--model", tiny_llama, "--n", "1",
                 "--max-tokens", "2", "--quarantine", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 prompt row(s) set aside" in text and str(out / "quarantine.parquet") in text


def test_training_row_without_chosen_names_file_line_and_field(tmp_path):
    from alignsmith.train.data import load_training_rows
    rows = [{"prompt": "a", "chosen": "x", "rejected": "y"}, {"prompt": "b", "rejected": "y", "chosen": None}]
    path = _jsonl(tmp_path / "pairs.jsonl", rows)
    with pytest.raises(InputError) as e:
        load_training_rows(path, "dpo")
    assert (e.value.path, e.value.line, e.value.field) == (path, 2, "chosen")
