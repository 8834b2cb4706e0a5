"""Issue 13 items 4 and 6: `eval run --set` options are checked by name and type before any work."""
import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.evaluate.tasks import get_task
from alignsmith.train.cli import main


def test_misspelt_task_option_names_the_nearest(tmp_path, capsys):
    out = tmp_path / "ev"
    assert main(["eval", "run", "--responses", str(tmp_path / "r.jsonl"), "--model", "m", "--tasks", "ifeval",
                 "--set", "ifeval.pth=/x", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'path'" in err and "Traceback" not in err and not out.exists()


def test_wrongly_typed_task_option_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "ev"
    assert main(["eval", "run", "--responses", str(tmp_path / "r.jsonl"), "--model", "m", "--tasks", "ifeval",
                 "--set", "ifeval.path=5", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "field 'path'" in err and "Traceback" not in err and not out.exists()


def test_task_options_use_the_one_loader():
    from alignsmith.train.cli.eval_run import _parse_task_options
    assert _parse_task_options(["winrate.tie_margin=1e-3", "winrate.judge=reward", "safety.subsets=xstest"]) == \
        {"winrate": {"tie_margin": 0.001, "judge": "reward"}, "safety": {"subsets": "xstest"}}
    with pytest.raises(InputError, match="tie_margin"):
        get_task("winrate", tie_margin="yes")


def test_compare_on_an_eval_ifeval_run_names_the_command_that_makes_a_comparable_one(tmp_path, capsys):
    import json
    inputs = tmp_path / "input_data.jsonl"
    inputs.write_text(json.dumps({"key": 1, "prompt": "Write a haiku without commas.",
                                  "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}) + "\n")
    for name, text in (("a", "leaves fall, quietly"), ("b", "leaves fall quietly")):
        resp = tmp_path / f"{name}.jsonl"
        resp.write_text(json.dumps({"prompt": "Write a haiku without commas.", "response": text}) + "\n")
        assert main(["eval", "ifeval", "--input-data", str(inputs), "--responses", str(resp),
                     "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err
    assert "alignsmith eval run --responses" in err and f"ifeval.path={inputs}" in err
    assert not (tmp_path / "cmp").exists()
