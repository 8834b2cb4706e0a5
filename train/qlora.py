"""QLoRA: a 4-bit (NF4) frozen base through bitsandbytes, LoRA adapters trained on top, merged copies dequantised.

bitsandbytes is an optional extra (`pip install 'alignsmith[qlora]'`; 0.50 has a CPU backend, so QLoRA trains
on CPU as well as CUDA). The merged copy that vLLM loads is built from the weights the adapter was trained
against: every 4-bit matrix is dequantised (bitsandbytes' own `dequantize_4bit`) and the adapter is merged
into that, so merged logits match base+adapter. Merging into the original full-precision weights instead
would add the adapter to a different base (NF4 changes each SmolLM2 matrix by 9-10% relative).
"""
from __future__ import annotations

from pathlib import Path

from alignsmith.curate.core.errors import InputError

from .config import QloraOptions

INSTALL_HINT = "install the optional extra: pip install 'alignsmith[qlora]' (bitsandbytes>=0.50)"


def _torch_dtype(name: str, cuda: bool):
    import torch
    if name == "auto":
        return torch.bfloat16 if cuda else torch.float32
    return getattr(torch, name)


def _cuda() -> bool:
    import torch
    return torch.cuda.is_available()


def quantization_config(options: QloraOptions):
    """transformers' BitsAndBytesConfig for a 4-bit base; InputError with the install hint without bitsandbytes."""
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as e:
        raise InputError(f"--qlora needs bitsandbytes, which is not installed: {INSTALL_HINT}") from e
    from transformers import BitsAndBytesConfig
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=options.quant_type,
                              bnb_4bit_use_double_quant=options.double_quant,
                              bnb_4bit_compute_dtype=_torch_dtype(options.compute_dtype, _cuda()))


def load_quantized_causal_lm(path: str, options: QloraOptions, *, gradient_checkpointing: bool = False):
    """The base model with every linear layer in 4 bits, frozen and prepared for adapter training."""
    import torch
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM
    cuda = _cuda()
    kwargs = {"device_map": {"": torch.cuda.current_device()}} if cuda else {}
    model = AutoModelForCausalLM.from_pretrained(path, quantization_config=quantization_config(options),
                                                 dtype=torch.bfloat16 if cuda else torch.float32, **kwargs)
    # Freezes the base, keeps norms/embeddings in fp32 and lets gradients reach checkpointed inputs.
    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)


def set_adapter_dtype(model, options: QloraOptions) -> None:
    """Cast the trainable (adapter) weights to the chosen dtype; TRL casts them to bf16 for quantized bases,
    which on CPU loses small updates, so "auto" means fp32 there. Call before training builds the optimizer."""
    dtype = _torch_dtype(options.adapter_dtype, _cuda())
    for param in model.parameters():
        if param.requires_grad and param.dtype != dtype:
            param.data = param.data.to(dtype)


def dequantized_base(base_path: str, options: QloraOptions, dtype=None):
    """The base model in full precision whose linear weights are exactly the 4-bit weights, dequantised.

    Hand-written rather than transformers' `model.dequantize()`: on this CPU build that path dequantised in
    bf16 (it warns so) and its logits differed from the 4-bit model's; `bitsandbytes.functional.
    dequantize_4bit` is the operation the 4-bit matmul itself uses.
    """
    import torch
    from bitsandbytes.functional import dequantize_4bit
    from bitsandbytes.nn import Linear4bit
    from transformers import AutoModelForCausalLM
    dtype = dtype or torch.float32
    quantized = AutoModelForCausalLM.from_pretrained(base_path, quantization_config=quantization_config(options),
                                                     dtype=torch.float32,
                                                     **({"device_map": {"": 0}} if _cuda() else {}))
    full = AutoModelForCausalLM.from_pretrained(base_path, dtype=dtype)
    replaced = 0
    with torch.no_grad():
        for name, module in quantized.named_modules():
            if isinstance(module, Linear4bit):
                weight = dequantize_4bit(module.weight.data, module.weight.quant_state)
                full.get_submodule(name).weight.copy_(weight.to(device="cpu", dtype=dtype))
                replaced += 1
    if not replaced:
        raise RuntimeError(f"no 4-bit layer found when quantizing {base_path}; cannot build the merged copy")
    del quantized
    return full


def save_merged_dequantized(base_path: str, adapter_dir: str | Path, folder: str | Path, options: QloraOptions,
                            tokenizer) -> Path:
    """Merge a QLoRA adapter into the dequantised base and save a plain full-precision HF folder (for vLLM)."""
    import torch
    from peft import PeftModel
    dtype = torch.bfloat16 if _cuda() else torch.float32
    model = PeftModel.from_pretrained(dequantized_base(base_path, options, dtype), str(adapter_dir))
    merged = model.merge_and_unload()
    merged.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return Path(folder)
