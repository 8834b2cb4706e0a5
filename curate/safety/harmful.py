"""HarmfulPromptClassifier: is a request asking for help with harm? An embedding model over the prompt."""
from __future__ import annotations

from typing import Sequence

from .embedder import encode
from .linear_head import HARMFUL_PROMPT_WEIGHTS, LinearHead

DEFAULT_THRESHOLD = 0.5


class HarmfulPromptClassifier:
    """Scores user requests: 1.0 = clearly harmful, 0.0 = clearly benign.

    Trained to tell harmful requests from benign ones that merely sound violent ("how do I kill a
    process"), see `training_data.py`.
    """

    def __init__(self, *, weights: str | None = None, threshold: float = DEFAULT_THRESHOLD,
                 embedding_model: str | None = None):
        self.threshold = threshold
        self.head = LinearHead.load(weights or HARMFUL_PROMPT_WEIGHTS)
        self._embedding_model = embedding_model

    def score(self, prompts: Sequence[str]) -> list[float]:
        """Harmfulness score in [0, 1] per prompt."""
        if isinstance(prompts, str):
            raise TypeError("pass a list of prompts, not one string")
        if not prompts:
            return []
        texts = [p if p and p.strip() else " " for p in prompts]
        features = encode(texts, max_tokens=int(self.head.meta.get("max_tokens", 128)),
                          model_path=self._embedding_model)
        return [float(p) for p in self.head.probability(features)]

    def predict(self, prompts: Sequence[str]) -> list[bool]:
        """True where a prompt asks for help with harm."""
        return [s >= self.threshold for s in self.score(prompts)]
