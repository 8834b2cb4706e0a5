"""The Python entry points for training (what `alignsmith train` calls).

    from alignsmith.train.api import build_config, train_dpo
    result = train_dpo(build_config("dpo", preset="cpu-smoke", overrides={"dataset": "runs/pairs/<run>"}))
    result.checkpoint, result.merged, result.steps, result.final_loss, result.seconds
"""
from .config import TrainConfig, build_config, config_from_dict
from .methods import train_dpo, train_rm, train_sft
from .rl_methods import train, train_grpo, train_ppo
from .runner import TrainResult

__all__ = ["TrainConfig", "TrainResult", "build_config", "config_from_dict", "train", "train_sft", "train_rm",
           "train_dpo", "train_ppo", "train_grpo"]
