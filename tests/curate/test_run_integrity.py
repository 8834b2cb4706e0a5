"""Issue 13 items 1, 2, 8, 12, 14: nothing half-done is read as done; a finished folder is never rewritten."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alignsmith.curate.core.datafiles import write_parquet
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.runs import RunFolder, RunLockedError
from alignsmith.train.cli import main

PAIRS_SRC = Path(__file__).resolve().parent / "pairs_smollm2_candidates.jsonl"


def _candidates(n=4, text="Hello number {i}, nice to meet you."):
    return [{"prompt_id": f"p{i % 2}", "candidate_id": f"c{i}", "prompt": "Say hi.",
             "response": text.format(i=i), "finish_reason": "stop"} for i in range(n)]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def _unfinished_generate(tmp_path) -> Path:
    run = RunFolder.open("generate", {"prompts": "p.jsonl", "n": 2}, out=tmp_path / "gen")
    run.write_rows("prompts", [{"prompt_id": "p0", "prompt": [{"role": "user", "content": "Say hi."}]}])
    write_parquet(run.path / "candidates" / "shard-00000.parquet", _candidates(2))
    run.unlock()  # as if the process had been killed after 1 of its shards
    return run.path


def test_curate_refuses_an_unfinished_generate_run_and_says_how_to_resume(tmp_path, capsys):
    gen = _unfinished_generate(tmp_path)
    out = tmp_path / "cur"
    assert main(["curate", "--input", str(gen), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "unfinished generate run" in err and "Resume it" in err and str(gen) in err
    assert not out.exists()
    # a file inside the unfinished folder is refused too
    assert main(["curate", "--input", str(gen / "candidates" / "shard-00000.parquet"), "--out", str(out)]) == 2
    assert "unfinished" in capsys.readouterr().err and not out.exists()


def test_pairs_refuses_a_file_of_an_unfinished_curate_run(tmp_path, capsys):
    cur = RunFolder.open("curate", {"steps": []}, out=tmp_path / "cur")
    cur.write_rows("kept", _candidates())
    cur.unlock()
    assert main(["pairs", "--input", str(cur.path / "kept.parquet"), "--out", str(tmp_path / "p")]) == 2
    assert "unfinished curate run" in capsys.readouterr().err and not (tmp_path / "p").exists()


def test_curate_records_input_hash_and_never_rewrites_a_finished_folder(tmp_path, capsys):
    src = _jsonl(tmp_path / "c.jsonl", _candidates())
    out = tmp_path / "cur"
    assert main(["curate", "--input", str(src), "--out", str(out)]) == 0
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert len(config["inputs"][0]["sha256"]) == 64
    before = _snapshot(out)
    assert main(["curate", "--input", str(src), "--out", str(out)]) == 0  # same config, same input
    assert _snapshot(out) == before
    _jsonl(src, _candidates(8))  # the input file changes content, same path
    capsys.readouterr()
    assert main(["curate", "--input", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "finished run made by a different config" in err and "Changed: inputs" in err
    assert _snapshot(out) == before


def test_pairs_changed_input_is_refused_on_a_finished_folder(tmp_path, capsys):
    src = tmp_path / "c.jsonl"
    src.write_bytes(PAIRS_SRC.read_bytes())
    out = tmp_path / "pairs"
    assert main(["pairs", "--input", str(src), "--out", str(out)]) == 0
    before = _snapshot(out)
    lines = PAIRS_SRC.read_text().splitlines(keepends=True)
    src.write_text("".join(lines[:-3]))
    capsys.readouterr()
    assert main(["pairs", "--input", str(src), "--out", str(out)]) == 2
    assert "Changed: inputs" in capsys.readouterr().err
    assert _snapshot(out) == before


def test_pairs_on_zero_candidates_is_refused(tmp_path, capsys):
    src = tmp_path / "empty.jsonl"
    src.write_text("")
    assert main(["pairs", "--input", str(src), "--out", str(tmp_path / "p")]) == 2
    assert "no candidate rows" in capsys.readouterr().err and not (tmp_path / "p").exists()


def test_out_into_an_existing_non_run_folder_is_refused(tmp_path, capsys):
    mine = tmp_path / "my-notes"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    src = _jsonl(tmp_path / "c.jsonl", _candidates())
    assert main(["curate", "--input", str(src), "--out", str(mine)]) == 2
    assert "not an alignsmith run folder" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_unknown_backend_is_refused_before_any_folder(tmp_path, capsys):
    prompts = _jsonl(tmp_path / "p.jsonl", [{"prompt": "hi"}])
    out = tmp_path / "gen"
    assert main(["generate", "--prompts", str(prompts), "--backend", "hff", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'hf'" in err and "vllm" in err and "openai" in err
    assert not out.exists()


def test_second_process_is_refused_while_the_first_holds_the_folder(tmp_path):
    folder = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom alignsmith.curate.core.runs import RunFolder\n"
         f"RunFolder.open('generate', {{'n': 1}}, out={str(folder)!r})\nprint('held', flush=True)\ntime.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError) as e:
            RunFolder.open("generate", {"n": 1}, out=folder)
        assert f"pid {holder.pid}" in str(e.value) and isinstance(e.value, InputError)
    finally:
        holder.kill()
        holder.wait()
    RunFolder.open("generate", {"n": 1}, out=folder).unlock()  # the lock dies with its process


def test_stale_temporaries_are_removed_when_a_run_resumes(tmp_path):
    run = RunFolder.open("generate", {"n": 1}, out=tmp_path / "run")
    run.unlock()
    stale = [run.path / ".kept.parquet.abc.tmp", run.path / "candidates" / ".shard-00001.parquet.x.tmp"]
    for f in stale:
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(b"half")
    RunFolder.open("generate", {"n": 1}, out=tmp_path / "run").unlock()
    assert not any(f.exists() for f in stale)


def test_embedded_weights_are_pinned_by_hash(tmp_path, monkeypatch):
    from alignsmith.curate.core import models
    fake = tmp_path / "w.gguf"
    fake.write_bytes(b"not the weights")
    monkeypatch.setenv("ALIGNSMITH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(models, "gguf_path", lambda m: fake)
    with pytest.raises(models.ModelIntegrityError, match="not the pinned"):
        models.ensure_converted(models.KNOWN_MODELS["smollm2-135m-instruct"])
    assert not (tmp_path / "cache" / "models" / "smollm2-135m-instruct").exists()
    monkeypatch.undo()
    known = models.KNOWN_MODELS["smollm2-135m-instruct"]
    models.check_pinned_hash(models.gguf_path(known), known.gguf_sha256)  # the installed package matches


def test_training_on_an_unfinished_pairs_run_and_into_a_finished_folder_is_refused(tiny_llama, tmp_path):
    from alignsmith.train.config import build_config
    from alignsmith.train.methods import train_sft
    pairs = RunFolder.open("pairs", {"x": 1}, out=tmp_path / "pairs")
    pairs.write_rows("sft", [{"prompt": "Say hi.", "completion": "Hi!"}] * 4)
    pairs.unlock()
    trl = {"max_steps": 1, "per_device_train_batch_size": 2, "save_strategy": "no", "report_to": "none"}
    config = build_config("sft", overrides={"model": tiny_llama, "dataset": str(pairs.path),
                                            "out": str(tmp_path / "t"), "lora": {"enabled": False}, "trl": trl})
    with pytest.raises(InputError, match="unfinished"):
        train_sft(config)
    pairs.mark_done()
    train_sft(config)
    config_yaml = yaml.safe_load((tmp_path / "t" / "config.yaml").read_text())
    assert len(config_yaml["inputs"][0]["sha256"]) == 64 and config_yaml["inputs"][0]["run"] == "pairs"
    before = _snapshot(tmp_path / "t")
    with pytest.raises(InputError, match="already finished"):
        train_sft(config)
    assert _snapshot(tmp_path / "t") == before


def test_dedup_rerun_after_the_input_changed_is_refused(tmp_path, capsys):
    src = _jsonl(tmp_path / "rows.jsonl", [{"id": i, "text": f"row number {i} says something"} for i in range(4)])
    out = tmp_path / "dedup"
    assert main(["curate", "dedup", "--input", str(src), "--method", "exact", "--out", str(out)]) == 0
    before = _snapshot(out)
    assert main(["curate", "dedup", "--input", str(src), "--method", "exact", "--out", str(out)]) == 0
    assert "nothing to redo" in capsys.readouterr().out and _snapshot(out) == before
    _jsonl(src, [{"id": 9, "text": "another text"}])
    assert main(["curate", "dedup", "--input", str(src), "--method", "exact", "--out", str(out)]) == 2
    assert "Changed: inputs" in capsys.readouterr().err and _snapshot(out) == before
