"""Training configs, input checks, the CLI, lineage display and the eval-at-save callback (no training)."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from alignsmith.curate.core.datafiles import write_jsonl, write_parquet
from alignsmith.curate.core.errors import InputError
from alignsmith.train.cli import main
from alignsmith.train.config import build_config, parse_overrides
from alignsmith.train.data import load_training_rows


def test_overrides_parse_nested_and_typed():
    got = parse_overrides(["--trl.learning_rate", "1e-5", "--lora.r=4", "--merge", "--rewards", "[verifiers]"])
    assert got == {"trl": {"learning_rate": 1e-5}, "lora": {"r": 4}, "merge": True, "rewards": ["verifiers"]}
    # YAML 1.1 would read `no` as False; TRL's save_strategy needs the string.
    assert parse_overrides(["--trl.save_strategy", "no", "--lora.enabled", "false"]) == \
        {"trl": {"save_strategy": "no"}, "lora": {"enabled": False}}


def test_layers_apply_preset_then_file_then_flags(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("preset: cpu-smoke\nseed: 7\ntrl: {learning_rate: 0.001}\n"
                    "methods: {dpo: {trl: {beta: 0.5}}, sft: {trl: {beta: 9}}}\n")
    config = build_config("dpo", config_file=str(path), overrides={"trl": {"max_steps": 9}})
    assert config.seed == 7
    assert config.trl["learning_rate"] == 0.001 and config.trl["beta"] == 0.5   # file over preset
    assert config.trl["max_steps"] == 9 and config.trl["loss_type"] == ["sigmoid"]  # flag; preset's dpo part


def test_unknown_trl_argument_suggests_the_right_one():
    with pytest.raises(InputError, match=r"'bta' \(did you mean 'beta'\?\)"):
        build_config("dpo", overrides={"trl": {"bta": 0.2}})


def test_unknown_own_option_and_preset_are_refused():
    with pytest.raises(InputError, match="did you mean 'dataset'"):
        build_config("sft", overrides={"datset": "x"})
    with pytest.raises(InputError, match="cpu-smoke"):
        build_config("sft", preset="cpu-smok")


def test_missing_columns_names_expected_and_found(tmp_path):
    path = tmp_path / "pairs.jsonl"
    write_jsonl(path, [{"prompt": "hi", "chosen": "hello"}])
    with pytest.raises(InputError) as err:
        load_training_rows(str(path), "dpo")
    message = str(err.value)
    assert "prompt, chosen, rejected" in message and "missing rejected" in message and "found prompt, chosen" in message


def test_run_folder_without_the_method_file_lists_what_it_has(tmp_path):
    write_parquet(tmp_path / "candidates.parquet", [{"a": 1}])
    with pytest.raises(InputError, match="dpo.parquet.*found: candidates.parquet"):
        load_training_rows(str(tmp_path), "dpo")


def test_unfinished_run_folder_is_refused(tmp_path):
    write_parquet(tmp_path / "dpo.parquet", [{"prompt": "q", "chosen": "a", "rejected": "b"}])
    (tmp_path / "config.yaml").write_text("kind: pairs\n")
    with pytest.raises(InputError, match="unfinished"):
        load_training_rows(str(tmp_path), "dpo")
    (tmp_path / "DONE").write_text("now\n")
    rows, _ = load_training_rows(str(tmp_path), "dpo")
    assert len(rows) == 1


def test_rows_keep_only_trl_columns_and_wrap_strings(tmp_path):
    path = tmp_path / "dpo.jsonl"
    write_jsonl(path, [{"prompt": "q", "chosen": "good", "rejected": "bad", "margin": 2.0, "prompt_id": "p"}])
    rows, info = load_training_rows(str(path), "dpo")
    assert rows == [{"prompt": [{"role": "user", "content": "q"}],
                     "chosen": [{"role": "assistant", "content": "good"}],
                     "rejected": [{"role": "assistant", "content": "bad"}]}]
    assert info.rows == 1 and info.fingerprint.startswith("sha256:")


def test_reward_model_that_is_not_a_classifier_is_refused(tiny_llama, tmp_path):
    from alignsmith.train.rl_methods import train_ppo
    write_jsonl(tmp_path / "p.jsonl", [{"prompt": "q"}])
    config = build_config("ppo", overrides={"model": tiny_llama, "dataset": str(tmp_path / "p.jsonl"),
                                            "reward_model": tiny_llama})
    with pytest.raises(InputError, match="not a sequence classifier.*LlamaForCausalLM"):
        train_ppo(config)


def test_cli_prints_resolved_config(capsys):
    assert main(["train", "dpo", "--preset", "cpu-smoke", "--trl.beta", "0.3", "--print-config"]) == 0
    out = capsys.readouterr().out
    assert "method: dpo" in out and "beta: 0.3" in out


def test_cli_user_error_exits_2(capsys):
    assert main(["train", "sft", "--trl.learning_rat", "1"]) == 2
    assert "did you mean 'learning_rate'" in capsys.readouterr().err


def test_runs_show_prints_lineage(tmp_path, capsys):
    from alignsmith.train.lineage import lineage_record, write_lineage
    write_lineage(tmp_path, lineage_record({"method": "dpo"}, {"fingerprint": "sha256:ab"}, "base-model"))
    assert main(["runs", "show", str(tmp_path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["base_model"] == "base-model" and shown["dataset"]["fingerprint"] == "sha256:ab"
    assert "versions" in shown and "git_revision" in shown
    assert main(["runs", "show", str(tmp_path / "nothing")]) == 2


def test_lineage_links_to_the_checkpoint_it_started_from(tmp_path):
    from alignsmith.train.lineage import lineage_record, write_lineage
    write_lineage(tmp_path, lineage_record({"method": "sft"}, {"fingerprint": "sha256:01"}, "base", method="sft"))
    child = lineage_record({"method": "dpo"}, {"fingerprint": "sha256:02"}, str(tmp_path), method="dpo")
    assert child["parent"] == {"checkpoint": str(tmp_path), "method": "sft",
                               "dataset": {"fingerprint": "sha256:01"}, "base_model": "base"}


def test_verifier_reward_is_fraction_met():
    from alignsmith.train.rl_methods import verifier_reward
    ids = [["punctuation:no_comma", "change_case:english_lowercase"]] * 2
    kwargs = [json.dumps([{}, {}])] * 2
    prompts = [[{"role": "user", "content": "write"}]] * 2
    completions = [[{"role": "assistant", "content": "all lower no commas"}],
                   [{"role": "assistant", "content": "Upper, with a comma"}]]
    assert verifier_reward(prompts, completions, ids, kwargs) == [1.0, 0.0]


def test_eval_callback_appends_a_record_per_save(tiny_llama, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from alignsmith.train.eval_callback import ConstraintEvalCallback, read_train_evals
    prompts = tmp_path / "held_out.jsonl"
    write_jsonl(prompts, [{"prompt": "Say hi", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]},
                          {"prompt": "no constraints here"}])
    callback = ConstraintEvalCallback(str(prompts), n_prompts=4, max_tokens=4)
    assert len(callback.items) == 1   # prompts without constraints are not eval items
    model, tok = AutoModelForCausalLM.from_pretrained(tiny_llama), AutoTokenizer.from_pretrained(tiny_llama)
    (tmp_path / "out" / "checkpoint-3").mkdir(parents=True)
    args = SimpleNamespace(output_dir=str(tmp_path / "out"))
    state = SimpleNamespace(global_step=3, epoch=0.5, is_world_process_zero=True)
    callback.on_save(args, state, None, model=model, processing_class=tok)
    records = read_train_evals(tmp_path / "out")
    assert len(records) == 1
    rec = records[0]
    assert rec["step"] == 3 and rec["n_prompts"] == 1 and 0.0 <= rec["prompt_accuracy"] <= 1.0
    assert json.loads((tmp_path / "out" / "checkpoint-3" / "train_eval.json").read_text()) == rec


def test_reusing_an_out_folder_with_another_config_is_refused(tiny_llama, tmp_path):
    from alignsmith.train.runner import TrainingRun
    TrainingRun(build_config("dpo", overrides={"model": tiny_llama, "out": str(tmp_path), "seed": 1}))
    with pytest.raises(InputError, match="different config"):
        TrainingRun(build_config("dpo", overrides={"model": tiny_llama, "out": str(tmp_path), "seed": 2}))


@pytest.mark.parametrize("preset", ["cpu-smoke", "gpu"])
@pytest.mark.parametrize("method", ["sft", "rm", "dpo", "ppo", "grpo"])
def test_presets_name_only_real_trl_arguments(preset, method, tmp_path):
    from alignsmith.train.config import trl_config
    config = build_config(method, preset=preset)
    if preset == "cpu-smoke":   # the gpu preset asks for bf16, which TRL checks against the hardware
        args = trl_config(config, str(tmp_path))
        assert args.seed == 0 and args.bf16 is False
