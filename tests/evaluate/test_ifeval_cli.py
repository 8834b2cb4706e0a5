"""`alignsmith eval ifeval`: official output files, metrics, and errors that name the prompt."""
from __future__ import annotations

import json

import pytest

from alignsmith.train.cli import main


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_gpt4_responses_reproduce_official_files_and_summary(shared_data, tmp_path, capsys):
    root = shared_data / "ifeval"
    out = tmp_path / "ifeval-out"
    code = main(["eval", "ifeval", "--input-data", str(root / "input_data.jsonl"),
                 "--responses", str(root / "input_response_data_gpt4_20231107_145030.jsonl"), "--out", str(out)])
    assert code == 0
    for mode in ("strict", "loose"):
        ours = (out / f"eval_results_{mode}.jsonl").read_bytes()
        assert ours == (root / "official_results" / f"eval_results_{mode}.jsonl").read_bytes()
    metrics = json.loads((out / "metrics.json").read_text())
    summary = json.loads((root / "official_results" / "summary.json").read_text())
    for mode in ("strict", "loose"):
        assert metrics[f"prompt_level_{mode}_acc"]["value"] == pytest.approx(summary[mode]["prompt_level"])
        assert metrics[f"inst_level_{mode}_acc"]["value"] == pytest.approx(summary[mode]["instruction_level"])
        assert metrics[f"inst_level_{mode}_acc"]["n"] == 834
        m = metrics[f"prompt_level_{mode}_acc"]
        assert m["ci_low"] < m["value"] < m["ci_high"] and m["higher_is_better"] is True
    per_type = [k for k in metrics if k.startswith("inst_level_strict_acc/")]
    assert len(per_type) == 25
    assert metrics["inst_level_strict_acc/punctuation:no_comma"]["n"] > 0
    assert (out / "DONE").exists()
    assert "prompt_level_strict_acc" in capsys.readouterr().out


def _tiny_inputs(tmp_path, ids=("punctuation:no_comma",)):
    rows = [{"key": 7, "prompt": "Say hi without commas.", "instruction_id_list": list(ids),
             "kwargs": [{} for _ in ids]},
            {"key": 8, "prompt": "Say bye in quotes.", "instruction_id_list": ["startend:quotation"],
             "kwargs": [{}]}]
    return _write_jsonl(tmp_path / "input.jsonl", rows)


def test_small_run_scores_and_orders_by_input(tmp_path):
    inputs = _tiny_inputs(tmp_path)
    responses = _write_jsonl(tmp_path / "resp.jsonl", [{"prompt": "Say bye in quotes.", "response": '"bye"'},
                                                       {"prompt": "Say hi without commas.", "response": "hi, you"}])
    assert main(["eval", "ifeval", "--input-data", inputs, "--responses", responses, "--out",
                 str(tmp_path / "o")]) == 0
    strict = [json.loads(x) for x in (tmp_path / "o" / "eval_results_strict.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in strict] == ["Say hi without commas.", "Say bye in quotes."]
    assert [r["follow_all_instructions"] for r in strict] == [False, True]
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["prompt_level_strict_acc"]["value"] == 0.5


def test_prompt_without_response_is_an_error_naming_it(tmp_path, capsys):
    inputs = _tiny_inputs(tmp_path)
    responses = _write_jsonl(tmp_path / "resp.jsonl", [{"prompt": "Say hi without commas.", "response": "hi"}])
    assert main(["eval", "ifeval", "--input-data", inputs, "--responses", responses, "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "prompt 8" in err and "no response" in err and "Say bye in quotes." in err
    assert not (tmp_path / "o" / "DONE").exists()


@pytest.mark.parametrize("ids,response,fragment", [
    (["punctuation:no_comas"], "hi", "unknown verifier 'punctuation:no_comas'"),
    (["punctuation:no_comma"], 42, "must be a string"),
])
def test_bad_instruction_or_response_names_prompt_key(tmp_path, capsys, ids, response, fragment):
    inputs = _tiny_inputs(tmp_path, ids=ids)
    responses = _write_jsonl(tmp_path / "resp.jsonl", [{"prompt": "Say hi without commas.", "response": response},
                                                       {"prompt": "Say bye in quotes.", "response": '"x"'}])
    assert main(["eval", "ifeval", "--input-data", inputs, "--responses", responses, "--out",
                 str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "prompt 7" in err and ids[0] in err


def test_unreachable_hub_id_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    responses = _write_jsonl(tmp_path / "resp.jsonl", [{"prompt": "p", "response": "r"}])
    assert main(["eval", "ifeval", "--input-data", "no-such-org/no-such-ifeval", "--responses", responses,
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no-such-org/no-such-ifeval" in err and "local IFEval input_data.jsonl" in err
