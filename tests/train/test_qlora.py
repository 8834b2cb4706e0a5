"""QLoRA (--qlora): 4-bit NF4 base through bitsandbytes' CPU backend, LoRA adapters on top, dequantised merges.

Fast tests use the tiny random Llama; the slow one trains DPO on the real SmolLM2 with real HH-RLHF pairs.
"""
from __future__ import annotations

import statistics

import pytest
import torch

from alignsmith.curate.core.datafiles import write_parquet
from alignsmith.curate.core.errors import InputError
from alignsmith.train.config import build_config

bnb = pytest.importorskip("bitsandbytes", reason="the qlora extra (bitsandbytes) is not installed")


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def test_qlora_flag_and_its_checks():
    from alignsmith.train.config import parse_overrides
    assert parse_overrides(["--qlora"]) == {"qlora": True}
    assert parse_overrides(["--qlora.quant_type", "fp4"]) == {"qlora": {"quant_type": "fp4"}}
    config = build_config("dpo", preset="cpu-smoke", overrides=parse_overrides(["--qlora"]))
    assert config.qlora.enabled and config.qlora.quant_type == "nf4" and config.lora.enabled
    with pytest.raises(InputError, match="needs lora.enabled"):
        build_config("dpo", preset="cpu-smoke", overrides={"qlora": True, "lora": {"enabled": False}})
    with pytest.raises(InputError, match="supported for sft, dpo, not ppo"):
        build_config("ppo", preset="cpu-smoke", overrides={"qlora": True})
    with pytest.raises(InputError, match="qlora.quant_type"):
        build_config("sft", overrides={"qlora": {"enabled": True, "quant_type": "int3"}})
    with pytest.raises(InputError, match="did you mean 'double_quant'"):
        build_config("sft", overrides={"qlora": {"enabled": True, "double_quant_": True}})


def test_missing_bitsandbytes_names_the_extra(monkeypatch):
    import sys

    from alignsmith.train.config import QloraOptions
    from alignsmith.train.qlora import quantization_config
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # import now fails as if not installed
    with pytest.raises(InputError, match=r"alignsmith\[qlora\]"):
        quantization_config(QloraOptions(enabled=True))


def test_sft_qlora_on_tiny_model_merges_into_dequantised_base(tiny_llama, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from alignsmith.train.methods import train_sft
    from alignsmith.train.qlora import dequantized_base
    prompt = [{"role": "user", "content": "Say a colour."}]
    write_parquet(tmp_path / "sft.parquet", [{"prompt": prompt, "completion": [
        {"role": "assistant", "content": f"Colour number {i} is blue."}]} for i in range(8)])
    config = build_config("sft", preset="cpu-smoke", overrides={
        "model": tiny_llama, "dataset": str(tmp_path / "sft.parquet"), "out": str(tmp_path / "run"),
        "merge": True, "qlora": True, "lora": {"r": 4, "alpha": 8},
        "trl": {"max_steps": 3, "learning_rate": 5e-2, "save_strategy": "no", "max_length": 64}})
    result = train_sft(config)
    assert result.steps == 3 and (tmp_path / "run" / "final" / "adapter_config.json").exists()
    adapter = PeftModel.from_pretrained(dequantized_base(tiny_llama, config.qlora), result.checkpoint)
    lora_b = [p for n, p in adapter.named_parameters() if "lora_B" in n]
    assert lora_b and all(p.dtype == torch.float32 for p in lora_b)  # fp32 adapters on CPU ("auto")
    assert any(p.abs().max() > 0 for p in lora_b)                     # training moved the zero-initialised B
    merged = AutoModelForCausalLM.from_pretrained(result.merged, dtype=torch.float32)
    assert not hasattr(merged.config, "quantization_config")          # a plain full-precision folder
    ids = torch.tensor([[1, 5, 9, 200, 300, 17, 42]])
    reference = _logits(adapter, ids)
    assert torch.allclose(_logits(merged, ids), reference, atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_dpo_qlora_on_smollm2_moves_margin_and_merges_exactly(smollm2, shared_data, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from alignsmith.train.margins import preference_margins
    from alignsmith.train.methods import train_dpo
    from alignsmith.train.qlora import dequantized_base
    from alignsmith.train.sample_data import hh_rlhf_pairs
    rows = hh_rlhf_pairs(shared_data / "hh_rlhf" / "helpful-base" / "test.jsonl.gz", 8)
    write_parquet(tmp_path / "dpo.parquet", rows)
    config = build_config("dpo", preset="cpu-smoke", overrides={
        "model": smollm2, "dataset": str(tmp_path), "out": str(tmp_path / "run"), "merge": True, "qlora": True,
        "trl": {"max_steps": 4, "learning_rate": 5e-4, "per_device_train_batch_size": 2, "save_strategy": "no",
                "beta": 0.1, "max_length": 192}})
    tok = AutoTokenizer.from_pretrained(smollm2)
    base = dequantized_base(smollm2, config.qlora)  # the frozen NF4 base the adapter trains against
    before = preference_margins(base, tok, rows)
    result = train_dpo(config)

    merged = AutoModelForCausalLM.from_pretrained(result.merged, dtype=torch.float32)
    after = preference_margins(merged, tok, rows)
    gain = statistics.mean(after) - statistics.mean(before)
    print(f"QLoRA DPO margin before {statistics.mean(before):.2f}, after {statistics.mean(after):.2f}")
    assert gain > 0.5, f"QLoRA DPO did not raise the chosen-minus-rejected margin (gain {gain:.3f})"
    assert sum(a > b for a, b in zip(after, before)) >= 6

    # The merged copy computes what base + adapter computes, in fp32 ...
    adapter = PeftModel.from_pretrained(dequantized_base(smollm2, config.qlora), result.checkpoint)
    ids = torch.tensor([tok.apply_chat_template(rows[0]["prompt"] + rows[0]["chosen"], return_dict=False)])
    reference = _logits(adapter, ids)
    merged_logits = _logits(merged, ids)
    exact = (merged_logits - reference).abs().max().item()
    assert exact < 1e-3, exact
    # ... and merging into the original (not dequantised) weights would not: NF4 moved every matrix.
    from alignsmith.train.runner import load_causal_lm
    wrong = PeftModel.from_pretrained(load_causal_lm(smollm2), result.checkpoint).merge_and_unload()
    off = (_logits(wrong, ids) - reference).abs().max().item()
    print(f"merged vs base+adapter max |dlogit| {exact:.2e}; merged into original weights {off:.2f}")
    assert off > 100 * exact
    # The 4-bit model itself (what trained) agrees with the merged copy up to its low-precision matmul.
    from alignsmith.train.qlora import load_quantized_causal_lm
    quantized = PeftModel.from_pretrained(load_quantized_causal_lm(smollm2, config.qlora), result.checkpoint)
    q_logits = _logits(quantized, ids)
    assert (q_logits.argmax(-1) == merged_logits.argmax(-1)).float().mean() >= 0.95
    _vllm_serves_the_merged_copy(result.merged, merged, tok, rows[0]["prompt"])


def _vllm_serves_the_merged_copy(folder, merged, tok, prompt):
    """vLLM (CPU) loads the merged folder and its greedy answer starts as transformers' greedy answer does."""
    from alignsmith.curate.backends.base import GenParams
    from alignsmith.curate.backends.vllm_backend import VLLMBackend
    backend = VLLMBackend(str(folder), max_model_len=512, dtype="float32")
    try:
        text = backend.generate([prompt], GenParams(n=1, temperature=0.0, max_tokens=8))[0][0].text
    finally:
        backend.close()
    ids = tok.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = merged.generate(**ids, max_new_tokens=8, do_sample=False)
    hf_text = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    print(f"vLLM greedy {text!r}; transformers greedy {hf_text!r}")
    assert text.strip() and text.split()[0] == hf_text.split()[0]
