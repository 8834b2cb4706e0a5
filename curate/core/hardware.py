"""What the machine's processor does natively, for choosing a number format.

bfloat16 is fast only where the hardware has it: CUDA GPUs of compute capability 8 and up, and x86 CPUs with
AVX512-BF16 or AMX. On an AVX2-only CPU it is emulated: on such a machine (2026-12-03) vLLM's SmolLM2 took
16.5 minutes for a shard of 32 prompts x 2 answers of up to 128 tokens in bfloat16, and about 75 s per such
shard in float32 (docs/benchmarks.md, "Number formats"), so "auto" picks float32 there.
"""
from __future__ import annotations

import functools

DTYPE_CHOICES = ("auto", "bfloat16", "float16", "float32")


@functools.lru_cache(maxsize=1)
def native_bf16() -> bool:
    """True on a CUDA GPU with bfloat16 support, or a CPU with AVX512-BF16 or AMX tiles."""
    import torch
    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def resolve_dtype(dtype: str) -> str:
    """`dtype` as a concrete name: "auto" is bfloat16 where the hardware has it natively, else float32."""
    if dtype not in DTYPE_CHOICES:
        raise ValueError(f"dtype {dtype!r}: use one of {', '.join(DTYPE_CHOICES)}")
    if dtype != "auto":
        return dtype
    return "bfloat16" if native_bf16() else "float32"


def usable_cpus() -> int:
    """Cores this process may use: its CPU affinity, capped by OMP_NUM_THREADS when that is set (the thread
    budget a user or a Ray worker gave the process; CPU-bound steps that fan out to processes honour it too)."""
    import os
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cap = os.environ.get("OMP_NUM_THREADS", "").strip()
    return max(1, min(cores, int(cap))) if cap.isdigit() and int(cap) > 0 else max(1, cores)
