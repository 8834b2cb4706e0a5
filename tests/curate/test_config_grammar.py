"""Issue 13 items 4-6: one YAML loader and a type check for every config value, before any work."""
from pathlib import Path

import pytest

from alignsmith.curate.core.config import apply_set, load_config, load_yaml, read_yaml_file
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.generate.run import GenerateConfig
from alignsmith.curate.pairs.build import PairsConfig
from alignsmith.train.cli import main

PAIRS_SRC = Path(__file__).resolve().parent / "pairs_smollm2_candidates.jsonl"


def test_loader_reads_exponents_as_floats_and_yes_as_text():
    assert load_yaml("a: 1e-3\nb: yes\nc: no\nd: true\ne: 5\n") == \
        {"a": 0.001, "b": "yes", "c": "no", "d": True, "e": 5}


def test_yaml_syntax_error_names_the_file_and_line(tmp_path):
    f = tmp_path / "curate.yaml"
    f.write_text("- filter: empty\n- filter: [truncated\n")
    with pytest.raises(InputError) as e:
        read_yaml_file(f)
    assert str(f) in str(e.value) and e.value.line is not None and "<unicode string>" not in str(e.value)


def test_set_values_use_the_same_loader():
    assert apply_set({}, ["min_margin=1e-3", "scorers.judge.mode=pointwise", "max_similarity=yes"]) == \
        {"min_margin": 0.001, "scorers": {"judge": {"mode": "pointwise"}}, "max_similarity": "yes"}


@pytest.mark.parametrize("item, field", [("max_similarity=yes", "max_similarity"),
                                         ("max_pairs_per_prompt=four", "max_pairs_per_prompt"),
                                         ("tie_tolerance=tiny", "tie_tolerance"),
                                         ("rescore=1", "rescore")])
def test_pairs_set_with_wrong_types_exits_2_before_work(tmp_path, capsys, item, field):
    out = tmp_path / "out"
    assert main(["pairs", "--input", str(PAIRS_SRC), "--out", str(out), "--set", item]) == 2
    err = capsys.readouterr().err
    assert f"field {field!r}" in err and "Traceback" not in err
    assert not out.exists()


def test_pairs_exponent_values_are_numbers(tmp_path, capsys):
    assert main(["pairs", "--print-config", "--set", "min_margin=1e-3", "--set", "tie_tolerance=1e-6"]) == 0
    text = capsys.readouterr().out
    assert "min_margin: 0.001" in text and "tie_tolerance: 1.0e-06" in text
    cfg = tmp_path / "pairs.yaml"
    cfg.write_text("min_margin: 1e-3\nmax_pairs_per_prompt: 2\n")
    assert main(["pairs", "--print-config", "--config", str(cfg)]) == 0
    assert "min_margin: 0.001" in capsys.readouterr().out


def test_unknown_pairs_key_names_the_nearest():
    with pytest.raises(InputError, match="did you mean 'max_similarity'"):
        PairsConfig.from_dict({"max_similarty": 0.5})


def test_generate_yaml_types_are_checked(tmp_path):
    cfg = tmp_path / "gen.yaml"
    cfg.write_text("temperature: 1e-3\nmax_tokens: 8\n")
    assert load_config(GenerateConfig, str(cfg)).temperature == pytest.approx(0.001)
    cfg.write_text("n: four\n")
    with pytest.raises(InputError, match="field 'n'"):
        load_config(GenerateConfig, str(cfg))


def test_generate_cli_bad_yaml_value_exits_2_and_makes_no_folder(tmp_path, capsys):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "hi"}\n')
    cfg = tmp_path / "gen.yaml"
    cfg.write_text("temperature: warm\n")
    out = tmp_path / "out"
    assert main(["generate", "--prompts", str(prompts), "--config", str(cfg), "--out", str(out)]) == 2
    assert "temperature" in capsys.readouterr().err and not out.exists()


def test_train_overrides_are_type_checked():
    from alignsmith.train.config import build_config, parse_overrides
    with pytest.raises(InputError, match="field 'r'"):
        build_config("dpo", overrides=parse_overrides(["--lora.r", "four"]))
    with pytest.raises(InputError, match="field 'seed'"):
        build_config("dpo", overrides=parse_overrides(["--seed", "1.5"]))
    assert build_config("dpo", overrides=parse_overrides(["--trl.learning_rate", "1e-5"])).trl["learning_rate"] == 1e-5


def test_the_type_check_imports_neither_vllm_nor_torch():
    import subprocess
    import sys
    code = ("import sys\nfrom alignsmith.curate.core.config import check_value\ncheck_value('x', float | None, 1)\n"
            "assert 'vllm' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
