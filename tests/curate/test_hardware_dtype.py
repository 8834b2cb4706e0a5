"""core/hardware.py: "auto" picks bfloat16 only where the processor has it natively."""
import pytest

from alignsmith.curate.core import hardware


def test_auto_follows_the_processor(monkeypatch):
    hardware.native_bf16.cache_clear()
    monkeypatch.setattr(hardware, "native_bf16", lambda: False)
    assert hardware.resolve_dtype("auto") == "float32"
    monkeypatch.setattr(hardware, "native_bf16", lambda: True)
    assert hardware.resolve_dtype("auto") == "bfloat16"


def test_explicit_dtypes_are_kept_and_unknown_ones_refused():
    assert hardware.resolve_dtype("bfloat16") == "bfloat16"
    assert hardware.resolve_dtype("float32") == "float32"
    with pytest.raises(ValueError, match="use one of"):
        hardware.resolve_dtype("fp8")


def test_native_bf16_agrees_with_torch_on_this_machine():
    import torch
    hardware.native_bf16.cache_clear()
    if torch.cuda.is_available():
        expected = torch.cuda.is_bf16_supported()
    else:
        expected = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert hardware.native_bf16() is bool(expected)


def test_trl_bf16_auto_is_resolved(tmp_path):
    from alignsmith.train.config import build_config, trl_config
    config = build_config("sft", overrides={"model": "m", "dataset": "d", "trl": {"bf16": "auto"}})
    args = trl_config(config, str(tmp_path))
    assert args.bf16 is hardware.native_bf16()
