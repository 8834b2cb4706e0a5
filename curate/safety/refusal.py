"""RefusalDetector: does a response refuse (fully or partly)? Rules first, an embedding model after."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .embedder import encode
from .linear_head import REFUSAL_WEIGHTS, LinearHead
from .refusal_rules import is_empty_response, match_refusal_phrase, opening

# A refusal phrase in the opening lifts the score to at least this: the phrase list is precise, so it
# wins over the model, but a model score above it is kept so scores still rank.
RULE_FLOOR = 0.9
DEFAULT_THRESHOLD = 0.5
# Without a refusal phrase, the model alone must be this sure before an answer counts as a refusal. On
# long compliant answers (AlpacaEval reference outputs, a dev set never used for fitting) the model's
# raw p >= 0.5 flagged 2.9% as refusals, p >= 0.9 only 0.4%; the phrase list flagged 0.9%.
MODEL_ALONE_CONFIDENCE = 0.9


def calibrated_model_score(p: float, confident: float = MODEL_ALONE_CONFIDENCE) -> float:
    """Map the model's probability piecewise-linearly so that `confident` lands on 0.5 (order kept)."""
    if p < confident:
        return 0.5 * p / confident
    return 0.5 + 0.5 * (p - confident) / (1.0 - confident)


@dataclass(frozen=True)
class RefusalVerdict:
    """One response's score, decision, and what decided it ("rule:<name>", "empty" or "model")."""

    score: float
    refusal: bool
    decided_by: str


class RefusalDetector:
    """Scores responses for refusal: 1.0 = certainly refuses, 0.0 = certainly complies.

    `prompts` are accepted for interface parity with the LLM-judge mode; the local detector reads the
    response alone, because whether an answer refuses is visible in the answer. The model never runs on
    empty responses (their score is 1.0 whatever it says). `rules_first=True` also skips it where a
    refusal phrase fires, scoring those RULE_FLOOR: the decision is the same for any threshold up to
    RULE_FLOOR, only the score above the floor is lost (a filter needs the decision, a ranking the score).
    `cache=True` keeps each distinct response's model probability in the on-disk score cache.
    """

    def __init__(self, *, weights: str | None = None, threshold: float = DEFAULT_THRESHOLD,
                 use_rules: bool = True, use_model: bool = True, embedding_model: str | None = None,
                 rules_first: bool = False, cache: bool = False, cache_path: str | None = None):
        if not (use_rules or use_model):
            raise ValueError("RefusalDetector needs rules, the model, or both (use_rules/use_model)")
        if rules_first and threshold > RULE_FLOOR:
            raise ValueError(f"rules_first needs threshold <= {RULE_FLOOR} (a phrase hit must decide), "
                             f"got {threshold}")
        self.threshold = threshold
        self.use_rules, self.use_model, self.rules_first = use_rules, use_model, rules_first
        self.head = LinearHead.load(weights or REFUSAL_WEIGHTS) if use_model else None
        self._embedding_model = embedding_model
        self._cache = None
        if cache and use_model:
            from ..core.embeddings import default_model_path
            from .score_cache import ScoreCache, head_file_bytes, model_identity, namespace
            space = namespace(kind=b"refusal", head=head_file_bytes(weights or REFUSAL_WEIGHTS),
                              model=model_identity(embedding_model or default_model_path()))
            self._cache = ScoreCache(space, cache_path)

    def verdicts(self, responses: Sequence[str], prompts: Sequence[str] | None = None) -> list[RefusalVerdict]:
        """Score, decision and deciding part for each response, in order."""
        _check_lengths(responses, prompts)
        empty = [is_empty_response(t) for t in responses]
        rules = [None if e or not self.use_rules else match_refusal_phrase(t) for e, t in zip(empty, responses)]
        need = [i for i, (e, r) in enumerate(zip(empty, rules)) if not e and not (r and self.rules_first)]
        model_scores = dict(zip(need, self._model_scores([responses[i] for i in need]) or []))
        out = []
        for i, text in enumerate(responses):
            if empty[i]:
                out.append(RefusalVerdict(1.0, True, "empty"))
                continue
            rule = rules[i]
            if not self.use_model:
                score = 1.0 if rule else 0.0
            elif i not in model_scores:  # rules_first and a phrase fired
                score = RULE_FLOOR
            else:
                score = max(model_scores[i], RULE_FLOOR) if rule else model_scores[i]
            decided = f"rule:{rule.rule}" if rule else "model" if self.use_model else "rules:none"
            out.append(RefusalVerdict(float(score), bool(score >= self.threshold), decided))
        return out

    def score(self, responses: Sequence[str], prompts: Sequence[str] | None = None) -> list[float]:
        """Refusal score in [0, 1] per response."""
        return [v.score for v in self.verdicts(responses, prompts)]

    def predict(self, responses: Sequence[str], prompts: Sequence[str] | None = None) -> list[bool]:
        """True where a response refuses (fully or partly)."""
        return [v.refusal for v in self.verdicts(responses, prompts)]

    def _model_scores(self, responses: Sequence[str]):
        if not self.use_model or not responses:
            return None
        from .score_cache import cached_scores
        max_tokens = int(self.head.meta.get("max_tokens", 128))
        heads = [opening(t, chars=max_tokens * 8) if t and t.strip() else " " for t in responses]
        probs = cached_scores(heads, self._model_probabilities, self._cache)
        return [calibrated_model_score(p) for p in probs]

    def _model_probabilities(self, heads: list[str]) -> list[float]:
        max_tokens = int(self.head.meta.get("max_tokens", 128))
        features = encode(heads, max_tokens=max_tokens, model_path=self._embedding_model)
        return [float(p) for p in self.head.probability(features)]


def _check_lengths(responses: Sequence[str], prompts: Sequence[str] | None) -> None:
    if isinstance(responses, str):
        raise TypeError("pass a list of responses, not one string")
    if prompts is not None and len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts for {len(responses)} responses; pass one prompt per response")
