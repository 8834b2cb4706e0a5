"""`eval run --responses`: bad response files are errors naming the rows; good ones make a run folder."""
from __future__ import annotations

import json

import pytest

from alignsmith.evaluate.results import load_eval_run, results_index
from alignsmith.train.cli import main


@pytest.fixture()
def ifeval_rows(shared_data, monkeypatch):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))
    lines = (shared_data / "ifeval/input_data.jsonl").read_text().splitlines()[:6]
    return [json.loads(x) for x in lines]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _run(responses, *extra):
    return main(["eval", "run", "--model", "label", "--tasks", "ifeval", "--limit", "5",
                 "--responses", responses, *extra])


def test_scores_by_key_and_writes_run_folder(ifeval_rows, tmp_path):
    responses = _write(tmp_path / "r.jsonl", [{"key": r["key"], "response": "Hello world."} for r in ifeval_rows])
    assert _run(responses, "--out", str(tmp_path / "run")) == 0
    run = load_eval_run(tmp_path / "run")
    assert list(run.items["item_id"]) == [str(r["key"]) for r in ifeval_rows[:5]]
    assert set(run.items.columns) >= {"task", "task_version", "item_id", "prompt_id", "prompt", "response",
                                      "prompt_strict", "inst_loose", "n_instructions"}
    assert run.config["limit"] == 5 and run.config["tasks"]["ifeval"]["version"] == "1"
    assert run.config["responses"]["sha256"] and run.config["git_sha"] is not None
    assert run.metrics["ifeval/prompt_strict"]["n"] == 5
    assert run.task_versions == {"ifeval": "1"}
    # The run's items.parquet is itself a valid responses file (re-scoring gives the same metrics).
    assert _run(str(tmp_path / "run" / "items.parquet"), "--out", str(tmp_path / "again")) == 0
    again = load_eval_run(tmp_path / "again")
    assert again.metrics["ifeval/inst_loose"]["value"] == run.metrics["ifeval/inst_loose"]["value"]
    # Without --out the run lands under the runs root and shows up in the index.
    assert _run(responses) == 0
    assert [row["model"] for row in results_index()] == ["label"]


def test_missing_items_named(ifeval_rows, tmp_path, capsys):
    rows = [{"prompt": r["prompt"], "response": "x"} for r in ifeval_rows[:3]]
    assert _run(_write(tmp_path / "r.jsonl", rows)) == 2
    err = capsys.readouterr().err
    assert "no response for 2 items: ifeval/" + str(ifeval_rows[3]["key"]) in err
    assert str(ifeval_rows[4]["key"]) in err and "r.jsonl" in err


def test_duplicate_ids_named(ifeval_rows, tmp_path, capsys):
    rows = [{"key": r["key"], "response": "x"} for r in ifeval_rows] + [{"key": ifeval_rows[1]["key"], "response": "y"}]
    assert _run(_write(tmp_path / "r.jsonl", rows)) == 2
    err = capsys.readouterr().err
    assert f"answered more than once: ifeval/{ifeval_rows[1]['key']} (lines 2 and 7)" in err


def test_other_task_version_named(ifeval_rows, tmp_path, capsys):
    rows = [{"task": "ifeval", "task_version": "0", "item_id": str(r["key"]), "response": "x"} for r in ifeval_rows]
    assert _run(_write(tmp_path / "r.jsonl", rows)) == 2
    err = capsys.readouterr().err
    assert "another task version: line 1 (ifeval version 0, current 1)" in err


def test_unmatched_rows_and_bad_fields_named(ifeval_rows, tmp_path, capsys):
    rows = [{"key": r["key"], "response": "x"} for r in ifeval_rows] + [{"prompt": "not an IFEval prompt", "response": "x"}]
    assert _run(_write(tmp_path / "r.jsonl", rows)) == 2
    assert "1 rows match no item of tasks ifeval: line 7" in capsys.readouterr().err
    rows = [{"key": ifeval_rows[0]["key"], "response": None}]
    assert _run(_write(tmp_path / "r2.jsonl", rows)) == 2
    assert "r2.jsonl:1: field 'response'" in capsys.readouterr().err


def test_unknown_task_and_missing_model(ifeval_rows, capsys):
    assert main(["eval", "run", "--model", "m", "--tasks", "ifevl", "--responses", "x.jsonl"]) == 2
    assert "Did you mean 'ifeval'" in capsys.readouterr().err
    assert main(["eval", "run", "--tasks", "ifeval"]) == 2
    assert "--model" in capsys.readouterr().err


def test_multi_task_items_keep_every_tasks_columns(ifeval_rows, tmp_path, monkeypatch):
    """Rows of later tasks have columns the first task lacks; all of them reach items.parquet."""
    import alignsmith.evaluate.task_safety as task_safety

    class _Refuses:
        def predict(self, responses, prompts=None):
            return [True for _ in responses]

    monkeypatch.setattr(task_safety.SafetyTask, "_refusals",
                        lambda self, samples: _Refuses().predict([s.response for s in samples]))
    from alignsmith.evaluate.tasks import get_task
    safety_items = get_task("safety").items()[:4]
    rows = [{"task": "ifeval", "key": r["key"], "response": "x"} for r in ifeval_rows[:2]]
    rows += [{"task": "safety", "item_id": it.item_id, "response": "I can't."} for it in safety_items]
    out = tmp_path / "run"
    assert main(["eval", "run", "--model", "m", "--tasks", "ifeval,safety", "--limit", "2",
                 "--responses", _write(tmp_path / "r.jsonl", rows), "--out", str(out)]) == 0
    run = load_eval_run(out)
    safety = run.items[run.items["task"] == "safety"]
    assert safety["refused"].tolist() == [1.0, 1.0] and safety["harmful_refusal"].tolist() == [1.0, 1.0]
    assert run.items[run.items["task"] == "ifeval"]["refused"].isna().all()
