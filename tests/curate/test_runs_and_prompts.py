"""Run folders (hash, resume, conflicts, DONE) and prompt loading (errors and quarantine)."""
import json

import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.models import ModelNotFoundError, resolve_model
from alignsmith.curate.core.runs import RunConflictError, RunFolder, config_hash, metric
from alignsmith.curate.generate.prompts import load_prompts


def test_run_folder_layout_and_done(tmp_path):
    run = RunFolder.open("generate", {"model": "m", "seed": 1})
    assert run.path.parent.name == "generate" and run.path.name.endswith(
        config_hash({"model": "m", "seed": 1, "kind": "generate"}))
    cfg = run.read_config()
    assert cfg["model"] == "m" and cfg["kind"] == "generate" and "versions" in cfg
    assert not run.done
    run.write_metrics({"acc": metric(0.5, higher_is_better=True, n=10, ci=(0.2, 0.8))})
    run.mark_done()
    assert run.done and run.read_metrics()["acc"]["ci_low"] == 0.2


def test_unfinished_run_with_same_config_is_resumed_finished_is_not():
    a = RunFolder.open("x", {"k": 1})
    assert RunFolder.open("x", {"k": 1}).path == a.path
    a.mark_done()
    b = RunFolder.open("x", {"k": 1})
    assert b.path != a.path and not b.done
    assert RunFolder.open("x", {"k": 2}).path != a.path


def test_changed_config_on_existing_out_is_refused(tmp_path):
    RunFolder.open("x", {"k": 1}, out=tmp_path / "o")
    with pytest.raises(RunConflictError, match="different config"):
        RunFolder.open("x", {"k": 2}, out=tmp_path / "o")


def _write(tmp_path, lines):
    p = tmp_path / "prompts.jsonl"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_missing_field_error_names_file_line_field(tmp_path):
    p = _write(tmp_path, ['{"prompt": "ok"}', '{"text2": "no prompt here"}'])
    with pytest.raises(InputError) as e:
        load_prompts(p)
    assert f"{p}:2" in str(e.value) and "'prompt'" in str(e.value)


def test_empty_prompt_error(tmp_path):
    p = _write(tmp_path, ['{"prompt": "   "}'])
    with pytest.raises(InputError, match=r":1: field 'prompt': prompt is empty"):
        load_prompts(p)


def test_quarantine_keeps_good_rows_and_records_reasons(tmp_path):
    p = _write(tmp_path, ['{"prompt": "one"}', '{"prompt": broken', '{"prompt": ""}', '{"prompt": "two"}',
                          '{"prompt": "ONE"}'])
    rows, bad = load_prompts(p, quarantine=True)
    assert [r["prompt"][0]["content"] for r in rows] == ["one", "two"]
    assert [b["line"] for b in bad] == [2, 3, 5]
    assert all(b["drop_reason"].startswith("load: ") for b in bad)
    assert "duplicate" in bad[2]["drop_reason"]


def test_kwargs_must_match_instruction_ids(tmp_path):
    p = _write(tmp_path, [json.dumps({"prompt": "x", "instruction_id_list": ["a:b"], "kwargs": []})])
    with pytest.raises(InputError, match="field 'kwargs'"):
        load_prompts(p)


def test_missing_model_lists_tried_paths(tmp_path):
    with pytest.raises(ModelNotFoundError) as e:
        resolve_model(str(tmp_path / "nope"))
    msg = str(e.value)
    assert str(tmp_path / "nope") in msg and "Tried" in msg and "smollm2-135m-instruct" in msg
    assert msg.split("Tried: ")[1].count(str(tmp_path / "nope")) == 1
    with pytest.raises(ModelNotFoundError) as e:
        resolve_model("no-such-model")
    assert "models/no-such-model" in str(e.value)  # a bare name is also looked for in the cache
