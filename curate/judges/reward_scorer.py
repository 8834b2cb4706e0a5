"""`reward_model` scorer: a Hugging Face sequence-classification reward model (one output) scores answers.

Works with any such folder, including `alignsmith train rm` output. The prompt and answer are rendered
with the model's chat template, as TRL's reward trainer does, so scores match what the model was trained on.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.records import as_messages
from ..steps.scoring import SCORERS, Scorer


class NotARewardModelError(ValueError):
    """The folder holds a model that is not a one-output sequence classifier."""


def check_reward_model_config(path: str) -> Any:
    """Load the folder's config and refuse anything but `...ForSequenceClassification` with one label."""
    from transformers import AutoConfig
    folder = Path(path)
    if (folder / "adapter_config.json").exists() and not (folder / "config.json").exists():
        raise NotARewardModelError(f"{path} holds a PEFT adapter only; merge it into its base model "
                                   "(peft `merge_and_unload`, then save_pretrained) and pass that folder")
    config = AutoConfig.from_pretrained(path)
    archs = list(getattr(config, "architectures", None) or [])
    if not any(a.endswith("ForSequenceClassification") for a in archs):
        raise NotARewardModelError(
            f"{path} is not a reward model: its architectures are {archs or 'unset'}, expected a "
            "*ForSequenceClassification model (train one with `alignsmith train rm`)")
    if getattr(config, "num_labels", 1) != 1:
        raise NotARewardModelError(f"{path} is a classifier with num_labels={config.num_labels}; a reward "
                                   "model has exactly one output (num_labels=1)")
    return config


@SCORERS.register("reward_model")
class RewardModelScorer(Scorer):
    """Scalar reward per (prompt, response), in batches. Options: model (path or known name),
    batch_size (16), max_length (2048 tokens, longer inputs are truncated from the left), dtype, device."""

    name = "reward_model"

    def __init__(self, model: str, batch_size: int = 16, max_length: int = 2048, dtype: str = "float32",
                 device: str | None = None, **options: Any):
        super().__init__(**options)
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from ..core.models import resolve_model
        self.path = resolve_model(model)
        check_reward_model_config(self.path)
        self.batch_size, self.max_length = int(batch_size), int(max_length)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # Keep the end of the conversation (the answer) when an input is too long.
        self.tokenizer.truncation_side = "left"
        self.model = AutoModelForSequenceClassification.from_pretrained(
            self.path, dtype=getattr(torch, dtype)).to(self.device).eval()
        if self.model.config.pad_token_id is None:
            # The classifier finds each row's last real token via the pad id; batching needs it set.
            self.model.config.pad_token_id = self.tokenizer.pad_token_id

    def render(self, row: dict) -> str:
        """The chat-templated conversation (prompt then the candidate's answer) the model reads."""
        messages = as_messages(row["prompt"]) + [{"role": "assistant", "content": str(row["response"])}]
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False)
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages)

    def score_batch(self, rows: list[dict]) -> list[float]:
        import torch
        scores: list[float] = []
        for start in range(0, len(rows), self.batch_size):
            texts = [self.render(r) for r in rows[start:start + self.batch_size]]
            enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                                 return_tensors="pt", add_special_tokens=False).to(self.device)
            with torch.no_grad():
                logits = self.model(**enc).logits
            scores += logits[:, 0].float().cpu().tolist()
        return scores
