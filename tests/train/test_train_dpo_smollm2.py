"""Integration: DPO with LoRA on the real SmolLM2-135M-Instruct, on real HH-RLHF preference pairs.

The pairs are HH-RLHF's single-turn helpful-base dialogues (chosen vs rejected final answer), in the same
TRL conversational form that `alignsmith pairs` writes to dpo.parquet.
"""
from __future__ import annotations

import statistics

import pytest

from alignsmith.curate.core.datafiles import write_parquet
from alignsmith.train.config import build_config
from alignsmith.train.margins import preference_margins
from alignsmith.train.methods import train_dpo
from alignsmith.train.sample_data import hh_rlhf_pairs

N_PAIRS = 8


@pytest.mark.slow
def test_dpo_lora_raises_preference_margin_on_smollm2(smollm2, shared_data, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    rows = hh_rlhf_pairs(shared_data / "hh_rlhf" / "helpful-base" / "test.jsonl.gz", N_PAIRS)
    assert len(rows) == N_PAIRS
    write_parquet(tmp_path / "dpo.parquet", rows)
    tok = AutoTokenizer.from_pretrained(smollm2)
    before = preference_margins(AutoModelForCausalLM.from_pretrained(smollm2), tok, rows)

    config = build_config("dpo", preset="cpu-smoke", overrides={
        "model": smollm2, "dataset": str(tmp_path), "out": str(tmp_path / "run"), "merge": True,
        "trl": {"max_steps": 4, "learning_rate": 5e-4, "per_device_train_batch_size": 2, "save_strategy": "no",
                "beta": 0.1, "max_length": 192}})
    result = train_dpo(config)
    after = preference_margins(AutoModelForCausalLM.from_pretrained(result.merged), tok, rows)

    gain = statistics.mean(after) - statistics.mean(before)
    print(f"mean margin before {statistics.mean(before):.2f}, after {statistics.mean(after):.2f}")
    assert gain > 0.5, f"DPO did not raise the chosen-minus-rejected margin (gain {gain:.3f})"
    assert sum(a > b for a, b in zip(after, before)) >= N_PAIRS * 3 // 4
