"""Acceptance: SFT -> RM -> DPO -> PPO -> GRPO on a tiny random Llama, a few steps each.

Each test checks that training changed the weights and that the saved checkpoint reloads.
"""
from __future__ import annotations

import json

import pytest
import torch

from alignsmith.curate.core.datafiles import read_rows, write_parquet
from alignsmith.train.config import build_config
from alignsmith.train.lineage import LINEAGE_FILE
from alignsmith.train.rl_methods import train


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, shared_data):
    """prompts/sft/dpo parquet files built from 12 real IFEval prompts."""
    folder = tmp_path_factory.mktemp("train-data")
    rows = read_rows(shared_data / "ifeval" / "input_data.jsonl")[:12]
    prompts = [{"prompt": [{"role": "user", "content": r["prompt"][:160]}],
                "instruction_id_list": r["instruction_id_list"], "kwargs": r["kwargs"]} for r in rows]
    write_parquet(folder / "prompts.parquet", prompts)
    write_parquet(folder / "sft.parquet", [
        {"prompt": p["prompt"], "completion": [{"role": "assistant", "content": f"Answer number {i}."}]}
        for i, p in enumerate(prompts)])
    write_parquet(folder / "dpo.parquet", [
        {"prompt": p["prompt"], "chosen": [{"role": "assistant", "content": "A careful, complete answer."}],
         "rejected": [{"role": "assistant", "content": "no"}], "prompt_id": f"p{i}", "margin": 3.0,
         "strategy": "test"} for i, p in enumerate(prompts)])
    return folder


def _config(method, model, dataset, out, **extra):
    overrides = {"model": model, "dataset": str(dataset), "out": str(out), "max_rows": 8, **extra}
    return build_config(method, preset="cpu-smoke", overrides=overrides)


def _tensors(folder, cls=None):
    from transformers import AutoModelForCausalLM
    model = (cls or AutoModelForCausalLM).from_pretrained(folder)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _changed(before: dict, after: dict) -> list[str]:
    return [k for k in before if k in after and not torch.equal(before[k], after[k])]


@pytest.fixture(scope="module")
def reward_model(tiny_llama, data_dir, tmp_path_factory):
    """A reward model trained on the pairs (used by the RM, PPO and GRPO tests)."""
    out = tmp_path_factory.mktemp("rm") / "run"
    return train(_config("rm", tiny_llama, data_dir / "dpo.parquet", out))


def test_sft_trains_completion_and_reloads(tiny_llama, data_dir, tmp_path):
    held_out = {"prompts": str(data_dir / "prompts.parquet"), "n_prompts": 2, "max_tokens": 4}
    result = train(_config("sft", tiny_llama, data_dir / "sft.parquet", tmp_path / "sft", merge=True,
                           eval=held_out))
    assert result.steps == 4 and result.final_loss is not None
    assert _changed(_tensors(tiny_llama), _tensors(result.merged))
    assert (tmp_path / "sft" / "final" / "adapter_config.json").exists()   # LoRA by default
    lineage = json.loads((tmp_path / "sft" / "final" / LINEAGE_FILE).read_text())
    assert lineage["base_model"] == tiny_llama and lineage["dataset"]["fingerprint"].startswith("sha256:")
    assert (tmp_path / "sft" / "checkpoint-2" / LINEAGE_FILE).exists()
    assert (tmp_path / "sft" / "DONE").exists()
    evals = [json.loads(line) for line in (tmp_path / "sft" / "train_evals.jsonl").read_text().splitlines()]
    assert [e["step"] for e in evals] == [2, 4] and all(e["n_prompts"] == 2 for e in evals)


def test_cli_trains_and_prints_summary(tiny_llama, data_dir, tmp_path, capsys):
    from alignsmith.train.cli import main
    code = main(["train", "dpo", "--preset", "cpu-smoke", "--model", tiny_llama, "--dataset",
                 str(data_dir / "dpo.parquet"), "--out", str(tmp_path / "cli"), "--max_rows", "4",
                 "--trl.max_steps", "1", "--trl.save_strategy", "no"])
    assert code == 0
    out = capsys.readouterr().out
    assert "dpo: 1 steps, final loss" in out and f"checkpoint: {tmp_path / 'cli' / 'final'}" in out


def test_reward_model_is_merged_sequence_classifier(reward_model, tiny_llama):
    from transformers import AutoModelForSequenceClassification
    model = AutoModelForSequenceClassification.from_pretrained(reward_model.checkpoint)
    assert model.config.num_labels == 1
    base = _tensors(tiny_llama)
    after = {k: v for k, v in model.state_dict().items()}
    assert _changed(base, after), "reward model backbone did not change"


def test_dpo_lora_merged_changes_weights(tiny_llama, data_dir, tmp_path):
    result = train(_config("dpo", tiny_llama, data_dir, tmp_path / "dpo", merge=True))   # run folder input
    assert result.merged == str(tmp_path / "dpo" / "merged")
    assert _changed(_tensors(tiny_llama), _tensors(result.merged))
    assert (tmp_path / "dpo" / "merged" / "config.json").exists()


def test_dpo_full_precomputes_reference(tiny_llama, data_dir, tmp_path):
    config = _config("dpo", tiny_llama, data_dir / "dpo.parquet", tmp_path / "full",
                     lora={"enabled": False}, trl={"max_steps": 2, "save_strategy": "no"})
    result = train(config)
    assert _changed(_tensors(tiny_llama), _tensors(result.checkpoint))
    # Full fine-tuning keeps no reference copy: its log-probs were computed once, before training.
    args = torch.load(tmp_path / "full" / "final" / "training_args.bin", weights_only=False)
    assert args.precompute_ref_log_probs is True
    assert not (tmp_path / "full" / "final" / "adapter_config.json").exists()


def test_ppo_with_reward_and_value_model(tiny_llama, data_dir, reward_model, tmp_path):
    held_out = {"prompts": str(data_dir / "prompts.parquet"), "n_prompts": 2, "max_tokens": 4}
    config = _config("ppo", tiny_llama, data_dir / "prompts.parquet", tmp_path / "ppo", merge=True,
                     reward_model=reward_model.checkpoint, eval=held_out,
                     trl={"total_episodes": 4, "response_length": 8, "save_strategy": "steps", "save_steps": 1})
    result = train(config)
    assert result.steps == 2
    assert (tmp_path / "ppo" / "checkpoint-1" / LINEAGE_FILE).exists()
    assert len((tmp_path / "ppo" / "train_evals.jsonl").read_text().splitlines()) == 2
    assert _changed(_tensors(tiny_llama), _tensors(result.merged))


def test_grpo_with_verifiers_and_reward_model(tiny_llama, data_dir, reward_model, tmp_path):
    config = _config("grpo", tiny_llama, data_dir / "prompts.parquet", tmp_path / "grpo", merge=True,
                     reward_model=reward_model.checkpoint, rewards=["verifiers", "reward_model"],
                     trl={"max_steps": 2, "save_strategy": "no", "max_completion_length": 8})
    result = train(config)
    assert result.steps == 2
    assert _changed(_tensors(tiny_llama), _tensors(result.merged))
