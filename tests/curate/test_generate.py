"""generate: shards, resume, DONE, refusal of a changed config, skipped long prompts, bad prompt files."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from alignsmith.curate.core.datafiles import read_parquet
from alignsmith.curate.generate.run import GenerateConfig, generate, load_candidates, shard_path
from alignsmith.train.cli import main


def write_prompts(path: Path, n: int, extra: list[dict] | None = None) -> Path:
    rows = [{"prompt": f"Say something about item {i}."} for i in range(n)] + (extra or [])
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def tiny_config(model: str, prompts: Path, **kw) -> GenerateConfig:
    base = dict(prompts=str(prompts), model=model, backend="hf", n=2, max_tokens=4, shard_size=3, seed=7)
    return GenerateConfig(**{**base, **kw})


def by_candidate(rows: list[dict]) -> dict[str, tuple]:
    return {r["candidate_id"]: (r["prompt_id"], r["response"], r["finish_reason"]) for r in rows}


def test_shards_done_and_one_set_per_prompt(tiny_llama, tmp_path):
    config = tiny_config(tiny_llama, write_prompts(tmp_path / "p.jsonl", 7))
    result = generate(config, out=str(tmp_path / "run"), progress=False)
    shards = sorted((tmp_path / "run" / "candidates").glob("*.parquet"))
    assert [s.name for s in shards] == ["shard-00000.parquet", "shard-00001.parquet", "shard-00002.parquet"]
    assert (tmp_path / "run" / "DONE").exists()
    prompts, rows = load_candidates(tmp_path / "run")
    assert result.rows == len(rows) == 14 and result.prompts == len(prompts) == 7
    assert Counter(r["prompt_id"] for r in rows) == {p["prompt_id"]: 2 for p in prompts}
    assert len({r["candidate_id"] for r in rows}) == 14
    assert result.new_tokens == result.completion_tokens > 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["candidates"]["value"] == 14 and metrics["tokens_per_second"]["value"] > 0


def test_crash_after_first_shard_then_resume_matches_uninterrupted(tiny_llama, tmp_path):
    config = tiny_config(tiny_llama, write_prompts(tmp_path / "p.jsonl", 8))
    clean = generate(config, out=str(tmp_path / "clean"), progress=False)

    def crash(k):
        raise KeyboardInterrupt(f"simulated crash after shard {k}")

    with pytest.raises(KeyboardInterrupt):
        generate(config, out=str(tmp_path / "run"), progress=False, on_shard=crash)
    assert shard_path(tmp_path / "run", 0).exists() and not shard_path(tmp_path / "run", 1).exists()
    assert not (tmp_path / "run" / "DONE").exists()
    redone = []
    resumed = generate(config, out=str(tmp_path / "run"), progress=False, on_shard=redone.append)
    assert redone == [1, 2]  # the finished shard is not generated again
    assert by_candidate(load_candidates(resumed.run_dir)[1]) == by_candidate(load_candidates(clean.run_dir)[1])
    # a rerun of a finished run generates nothing and changes nothing
    again = generate(config, out=str(tmp_path / "run"), progress=False, on_shard=redone.append)
    assert redone == [1, 2] and again.rows == 16 and again.new_tokens == 0


def test_output_does_not_depend_on_shard_size(tiny_llama, tmp_path):
    prompts = write_prompts(tmp_path / "p.jsonl", 5)
    small = generate(tiny_config(tiny_llama, prompts, shard_size=2), out=str(tmp_path / "a"), progress=False)
    big = generate(tiny_config(tiny_llama, prompts, shard_size=5), out=str(tmp_path / "b"), progress=False)
    assert by_candidate(load_candidates(small.run_dir)[1]) == by_candidate(load_candidates(big.run_dir)[1])


def test_prompt_longer_than_context_is_recorded_as_skipped(tiny_llama, tmp_path):
    long_prompt = {"prompt": "word " * 700}  # the tiny model's context is 512 tokens
    config = tiny_config(tiny_llama, write_prompts(tmp_path / "p.jsonl", 2, [long_prompt]))
    result = generate(config, out=str(tmp_path / "run"), progress=False)
    prompts, rows = load_candidates(result.run_dir)
    long_id = prompts[-1]["prompt_id"]
    skipped = [r for r in rows if r["prompt_id"] == long_id]
    assert len(skipped) == 2 and all(r["response"] == "" for r in skipped)
    assert all(r["finish_reason"].startswith("skipped: prompt has") and "context is 512" in r["finish_reason"]
               for r in skipped)
    assert result.finish_reasons["skipped"] == 2 and len(rows) == 6


def cli(*args: str) -> int:
    return main(["generate", "--no-progress", *args])


def test_cli_runs_yaml_preset_flags_override_and_prints_summary(tiny_llama, tmp_path, capsys):
    prompts = write_prompts(tmp_path / "p.jsonl", 4)
    preset = tmp_path / "preset.yaml"
    preset.write_text(f"backend: hf\nmodel: {tiny_llama}\nn: 3\nmax_tokens: 3\ntemperature: 0.5\n")
    assert cli("--config", str(preset), "--prompts", str(prompts), "--n", "2", "--out", str(tmp_path / "r")) == 0
    summary = capsys.readouterr().out
    assert "8 candidates for 4 prompts" in summary and "tok/s" in summary and "finish reasons:" in summary
    import yaml
    recorded = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert recorded["n"] == 2 and recorded["temperature"] == 0.5 and recorded["max_tokens"] == 3


def test_cli_refuses_changed_config_on_existing_folder(tiny_llama, tmp_path, capsys):
    prompts = write_prompts(tmp_path / "p.jsonl", 3)
    common = ["--prompts", str(prompts), "--backend", "hf", "--model", tiny_llama, "--max-tokens", "3",
              "--out", str(tmp_path / "r")]
    assert cli(*common, "--n", "2") == 0
    before = sorted(p.name for p in (tmp_path / "r" / "candidates").iterdir())
    capsys.readouterr()
    assert cli(*common, "--n", "3") == 2
    err = capsys.readouterr().err
    assert "different config" in err and "Changed: n" in err and str(tmp_path / "r") in err
    assert sorted(p.name for p in (tmp_path / "r" / "candidates").iterdir()) == before
    # a different prompt file is refused too
    write_prompts(prompts, 4)
    assert cli(*common, "--n", "2") == 2
    assert "prompts_fingerprint" in capsys.readouterr().err


@pytest.mark.parametrize("line, field_hint", [
    ('{"prompt": "ok"}\n{"prompt": "broken\n', "malformed JSON"),
    ('{"prompt": "ok"}\n{"question_text": "no prompt field"}\n', "field 'prompt': missing"),
    ('{"prompt": "ok"}\n{"prompt": "   "}\n', "field 'prompt': prompt is empty"),
])
def test_cli_bad_prompt_file_names_file_line_and_field(tiny_llama, tmp_path, capsys, line, field_hint):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line, encoding="utf-8")
    assert cli("--prompts", str(bad), "--backend", "hf", "--model", tiny_llama, "--out", str(tmp_path / "r")) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2" in err and field_hint in err
    assert not (tmp_path / "r").exists()


def test_cli_quarantine_keeps_good_rows_and_records_bad_ones(tiny_llama, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "first"}\n{"prompt": "broken\n{"text_x": 1}\n{"prompt": ""}\n{"prompt": "last"}\n')
    assert cli("--prompts", str(bad), "--backend", "hf", "--model", tiny_llama, "--n", "1", "--max-tokens", "2",
               "--quarantine", "--out", str(tmp_path / "r")) == 0
    prompts, rows = load_candidates(tmp_path / "r")
    assert [p["prompt"][0]["content"] for p in prompts] == ["first", "last"] and len(rows) == 2
    quarantined = read_parquet(tmp_path / "r" / "quarantine.parquet")
    assert [q["line"] for q in quarantined] == [2, 3, 4]
    assert all(q["drop_reason"].startswith("load: ") for q in quarantined)
    assert f"{bad}:2" in quarantined[0]["drop_reason"] and "field 'prompt'" in quarantined[2]["drop_reason"]


def test_cli_missing_model_lists_paths_tried(tmp_path, capsys):
    prompts = write_prompts(tmp_path / "p.jsonl", 1)
    missing = tmp_path / "no-such-model"
    assert cli("--prompts", str(prompts), "--backend", "hf", "--model", str(missing),
               "--out", str(tmp_path / "r")) == 2
    err = capsys.readouterr().err
    assert "not found. Tried:" in err and str(missing) in err
    assert not (tmp_path / "r").exists()


def test_cli_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("candidates sampled per prompt", "nucleus sampling", "--executor {local,ray}",
                   "unit of resume", "--ray-address", "YAML preset"):
        assert phrase in text


def test_cli_rejects_bad_values(tmp_path, capsys):
    prompts = write_prompts(tmp_path / "p.jsonl", 1)
    assert cli("--prompts", str(prompts), "--n", "0") == 2
    assert "--n must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli("--prompts", str(prompts), "--backend-options", "[1]")
    assert "expected a JSON object" in capsys.readouterr().err


def test_repeated_prompt_rows_are_refused(tmp_path):
    from alignsmith.curate.core.records import make_prompt_row
    rows = [make_prompt_row("same"), make_prompt_row("other"), make_prompt_row("same")]
    with pytest.raises(ValueError, match="occur more than once"):
        generate(GenerateConfig(prompts="x", backend="hf"), out=str(tmp_path / "r"), prompt_rows=rows,
                 progress=False)
