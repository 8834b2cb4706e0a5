"""The curate pipeline and command: config steps, funnel, run folder, generate-folder input, bad rows."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignsmith.curate.core.datafiles import read_parquet, write_parquet
from alignsmith.curate.pipeline.run import curate_rows, default_config_path, load_config, load_input
from alignsmith.curate.steps.scoring import SCORERS, Scorer
from alignsmith.train.cli import main


def cand(cid, response, finish="stop", pid="p-1", **extra):
    return {"prompt_id": pid, "candidate_id": cid, "response": response, "model": "m", "gen_params": {"n": 2},
            "finish_reason": finish, "prompt_tokens": 5, "completion_tokens": 7, **extra}


ROWS = [cand("c0", "A fine, complete answer."), cand("c1", "   "), cand("c2", "Half an ans", "length"),
        cand("c3", "Sure.<|im_end|>"), cand("c4", "\n".join(["Same line again."] * 6)),
        cand("c5", None), cand("c6", "x" * 2_000_001)]


def test_default_config_is_the_four_format_filters():
    steps = load_config()["steps"]
    assert [s["filter"] for s in steps] == ["empty", "truncated", "leakage", "repetition"]
    assert Path(default_config_path()).exists()


def test_curate_rows_funnel_and_reasons():
    kept, dropped, report = curate_rows(ROWS)
    assert [r["candidate_id"] for r in kept] == ["c0"]
    reasons = {d["candidate_id"]: d["drop_reason"] for d in dropped}
    assert reasons["c5"].startswith("input: missing text field")
    assert reasons["c6"].startswith("input: field 'response' has 2,000,001 characters")
    assert reasons["c1"].startswith("empty: ") and reasons["c2"].startswith("truncated: ")
    assert reasons["c3"].startswith("leakage: ") and reasons["c4"].startswith("repetition: ")
    assert report["rows_in"] == 7 and report["rows_out"] == 1
    assert [(s["step"], s["dropped"]) for s in report["funnel"]] == [
        ("input", 2), ("empty", 1), ("truncated", 1), ("leakage", 1), ("repetition", 1)]
    assert len(kept) + len(dropped) == len(ROWS)  # nothing lost


def test_steps_with_options_scorers_and_unknown_names():
    @SCORERS.register("test_len")
    class LenScorer(Scorer):
        name = "test_len"

        def score_batch(self, rows):
            return [len(r["response"]) for r in rows]

    kept, _, report = curate_rows(ROWS[:1] + [cand("c9", "one two three")],
                                  [{"filter": "length", "min_words": 3}, {"scorer": "test_len"}])
    assert [r["scores"]["test_len"] for r in kept] == [24.0, 13.0]
    assert report["funnel"][-1]["kind"] == "scorer"
    with pytest.raises(KeyError, match="did you mean.*'truncated'|Did you mean 'truncated'"):
        curate_rows(ROWS, ["truncatd"])
    with pytest.raises(ValueError, match="exactly one of"):
        curate_rows(ROWS, [{"repetition": 1}])


def test_dedup_step_names_duplicate_of_within_prompt():
    rows = [cand("a", "Paris is the capital of France."), cand("b", "PARIS is the  capital of france."),
            cand("c", "Paris is the capital of France.", pid="p-2")]
    kept, dropped, _ = curate_rows(rows, [{"filter": "dedup", "method": "exact", "group_by": "prompt_id"}])
    assert [r["candidate_id"] for r in kept] == ["a", "c"]
    assert dropped[0]["duplicate_of"] == "a" and dropped[0]["drop_reason"].startswith("dedup: exact")


def make_generate_folder(root: Path) -> Path:
    run = root / "gen"
    prompts = [{"prompt_id": "p-1", "prompt": [{"role": "user", "content": "Answer in JSON please."}],
                "instruction_id_list": ["detectable_format:json_format"], "kwargs": [{"unused": None}], "category": "",
                "source": "t"}]
    write_parquet(run / "prompts.parquet", prompts)
    write_parquet(run / "candidates" / "shard-00000.parquet",
                  [cand("c0", '{"a": 1}'), cand("c1", "{not json")])
    write_parquet(run / "candidates" / "shard-00001.parquet", [cand("c2", '```json\n[1, 2]\n```')])
    (run / "DONE").write_text("x")
    return run


def test_load_input_joins_prompts(tmp_path):
    rows, bad = load_input(make_generate_folder(tmp_path))
    assert bad == [] and len(rows) == 3
    assert rows[0]["instruction_id_list"] == ["detectable_format:json_format"]
    assert rows[0]["prompt"][0]["content"].startswith("Answer in JSON")


def test_curate_command_writes_run_folder(tmp_path, capsys):
    config = tmp_path / "curate.yaml"
    config.write_text("- empty\n- filter: json_format\n")
    out = tmp_path / "out"
    assert main(["curate", "--input", str(make_generate_folder(tmp_path)), "--config", str(config),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rows in" in printed and "json_format" in printed and "rows out" in printed
    assert [r["candidate_id"] for r in read_parquet(out / "kept.parquet")] == ["c0", "c2"]
    dropped = read_parquet(out / "dropped.parquet")
    assert dropped[0]["candidate_id"] == "c1" and dropped[0]["drop_reason"].startswith("json_format: ")
    report = json.loads((out / "report.json").read_text())
    assert report["rows_in"] == 3 and report["rows_out"] == 2
    assert report["config"]["steps"] == [{"filter": "empty"}, {"filter": "json_format"}]
    assert (out / "DONE").exists() and (out / "config.yaml").exists()


def test_curate_command_quarantines_bad_jsonl_lines(tmp_path):
    src = tmp_path / "c.jsonl"
    src.write_bytes(json.dumps(cand("c0", "Fine answer.")).encode() + b"\n" + b'{"response": "\xff"}\n'
                    + b"not json\n")
    out = tmp_path / "out"
    assert main(["curate", "--input", str(src), "--out", str(out)]) == 0
    dropped = read_parquet(out / "dropped.parquet")
    assert sorted(d["drop_reason"].split(":")[2].strip().split()[0] for d in dropped) == ["invalid", "malformed"]
    assert [d["_line"] for d in dropped] == [2, 3]
    assert len(read_parquet(out / "kept.parquet")) == 1


def test_curate_command_user_error(tmp_path, capsys):
    assert main(["curate", "--input", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_decontam_and_dedup_against_steps(tmp_path, shared_data, monkeypatch):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))
    seen = tmp_path / "seen.jsonl"
    seen.write_text(json.dumps({"candidate_id": "old-1", "response": "An answer we already trained on."}) + "\n")
    leaked = [{"role": "user", "content": "Tell me: how can I kill a Python process? Be brief."}]
    rows = [cand("c0", "Use kill with the process id.", prompt=leaked),
            cand("c1", "AN answer we  already trained on.", prompt="Anything"),
            cand("c2", "Something new and useful.", prompt="Anything")]
    kept, dropped, _ = curate_rows(rows, [{"filter": "decontam", "sets": ["xstest"]},
                                          {"filter": "dedup", "method": "exact", "against": str(seen)}])
    assert [r["candidate_id"] for r in kept] == ["c2"]
    by_id = {d["candidate_id"]: d for d in dropped}
    assert by_id["c0"]["eval_set"] == "xstest" and by_id["c0"]["drop_reason"].startswith("decontam: ")
    assert by_id["c1"]["duplicate_of"] == "old-1" and "reference set" in by_id["c1"]["drop_reason"]


def test_curate_run_python_api_as_the_demo_calls_it(tmp_path):
    from alignsmith.curate.pipeline.run import curate_run
    prompts = [{"prompt_id": "p-1", "prompt": [{"role": "user", "content": "Hi"}]}]
    run = curate_run(ROWS[:3], prompts, [{"name": "empty"}, {"name": "truncated"}], input_path="mem")
    assert run.done and [r["candidate_id"] for r in run.read_rows("kept")] == ["c0"]
    assert run.read_rows("kept")[0]["prompt"] == prompts[0]["prompt"]
    report = json.loads(run.file("report.json").read_text())
    assert [(s["step"], s["dropped"]) for s in report["funnel"]] == [("input", 0), ("empty", 1), ("truncated", 1)]


def test_mixed_column_types_are_written_not_lost(tmp_path):
    src = tmp_path / "mixed.jsonl"
    rows = [cand("c0", "Fine.", meta=1), cand("c1", "Also fine.", meta="x")]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    assert main(["curate", "--input", str(src), "--out", str(out)]) == 0
    kept = read_parquet(out / "kept.parquet")
    assert [r["meta"] for r in kept] == ["1", '"x"']
    assert json.loads((out / "report.json").read_text())["json_encoded_columns"]["kept"] == ["meta"]


def test_a_step_whose_module_cannot_import_is_exit_2_naming_it(tmp_path, monkeypatch, capsys):
    """A broken registry target: one clear line (the missing module and which filter), no traceback."""
    from alignsmith.curate.steps.base import FILTERS
    (tmp_path / "broken_step_module.py").write_text("import a_library_that_is_not_installed_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(FILTERS._lazy, "broken", "broken_step_module:Broken")
    config = tmp_path / "curate.yaml"
    config.write_text("- empty\n- filter: broken\n")
    out = tmp_path / "out"
    assert main(["curate", "--input", str(make_generate_folder(tmp_path)), "--config", str(config),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "a_library_that_is_not_installed_xyz" in err and "filter 'broken'" in err and "Traceback" not in err
    assert not (out / "DONE").exists()
