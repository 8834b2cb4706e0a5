"""HarmfulPromptClassifier: is a request asking for help with harm? Phrase rules plus a small model over
the prompt's sentence embedding."""
from __future__ import annotations

from typing import Sequence

from .embedder import encode
from .harmful_rules import match_harmful_rule
from .linear_head import HARMFUL_PROMPT_WEIGHTS, LinearHead

DEFAULT_THRESHOLD = 0.5  # used only when the weights file records no dev-set threshold
RULE_SCORE = 1.0


class HarmfulPromptClassifier:
    """Scores user requests: 1.0 = clearly harmful, 0.0 = clearly benign.

    The model (an MLP over all-MiniLM-L6-v2 embeddings, see `fit.py`) tells harmful requests from benign
    ones that merely sound violent ("how do I kill a process"); the rules in `harmful_rules.py` catch
    short questions whose harm is in a relation between words (a private person's address, a demeaning
    claim about a group, replicating an atrocity, a self-harm method) and only ever raise the score.
    The threshold defaults to the one chosen on our own dev set when the head was fitted.
    """

    def __init__(self, *, weights: str | None = None, threshold: float | None = None,
                 embedding_model: str | None = None, use_rules: bool = True, use_model: bool = True):
        if not (use_rules or use_model):
            raise ValueError("HarmfulPromptClassifier needs use_rules or use_model (or both)")
        self.head = LinearHead.load(weights or HARMFUL_PROMPT_WEIGHTS) if use_model else None
        meta_threshold = self.head.meta.get("threshold") if self.head else None
        self.threshold = float(threshold if threshold is not None else meta_threshold or DEFAULT_THRESHOLD)
        self.use_rules = use_rules
        self._embedding_model = embedding_model

    def rule_hits(self, prompts: Sequence[str]) -> list[str | None]:
        """Name of the phrase rule that fires on each prompt, or None."""
        return [match_harmful_rule(p or "") for p in prompts]

    def score(self, prompts: Sequence[str]) -> list[float]:
        """Harmfulness score in [0, 1] per prompt (RULE_SCORE where a rule fires)."""
        if isinstance(prompts, str):
            raise TypeError("pass a list of prompts, not one string")
        if not prompts:
            return []
        scores = [0.0] * len(prompts)
        if self.head is not None:
            texts = [p if p and p.strip() else " " for p in prompts]
            features = encode(texts, max_tokens=int(self.head.meta.get("max_tokens", 128)),
                              model_path=self._embedding_model)
            scores = [float(p) for p in self.head.probability(features)]
        if self.use_rules:
            scores = [RULE_SCORE if hit else s for s, hit in zip(scores, self.rule_hits(prompts))]
        return scores

    def predict(self, prompts: Sequence[str]) -> list[bool]:
        """True where a prompt asks for help with harm."""
        return [s >= self.threshold for s in self.score(prompts)]
