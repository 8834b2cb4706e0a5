"""HarmfulPromptClassifier: is a request asking for help with harm? Phrase rules plus a linear probe over
a small chat model's hidden states (or, for heads fitted that way, over the prompt's sentence embedding)."""
from __future__ import annotations

from typing import Sequence

from .embedder import encode
from .harmful_rules import match_harmful_rule
from .linear_head import HARMFUL_PROMPT_WEIGHTS, LinearHead
from .lm_features import DTYPES, SENTENCE_MODES

DEFAULT_THRESHOLD = 0.5  # used only when the weights file records no dev-set threshold
RULE_SCORE = 1.0


class HarmfulPromptClassifier:
    """Scores user requests: 1.0 = clearly harmful, 0.0 = clearly benign.

    The shipped head is a logistic-regression probe over the embedded SmolLM2-135M-Instruct's middle
    layers (see `lm_features.py`, `fit.py`): it tells harmful requests from benign ones that merely sound
    violent ("how do I kill a process"). The rules in `harmful_rules.py` catch short questions whose harm
    is in a relation between words (a private person's address, a demeaning claim about a group,
    replicating an atrocity, a self-harm method) and only ever raise the score. The threshold defaults
    to the one chosen on our own dev sets when the head was fitted. A request longer than the probe's
    window is also scored sentence by sentence, and its score is the highest, so a harmful ask in a long
    prompt is not averaged away. Known weakness (docs/benchmarks.md): in a short prompt, one benign
    sentence before the ask lowers the probe's score a lot; `sentences="always"` scores every
    multi-sentence request sentence by sentence too, which fixes that but loses context given in
    another sentence. `feature_model` replaces the model the head was fitted on (a folder of the same
    model, e.g. elsewhere on disk); a head fitted over MiniLM sentence embeddings (meta without
    "features") uses `embedding_model` instead. The model runs only on prompts no rule decides (a rule
    sets the score whatever the model says). `cache=True` keeps each distinct prompt's model probability
    in the on-disk score cache (`score_cache.py`), keyed by the head file's and feature model's hashes.
    """

    def __init__(self, *, weights: str | None = None, threshold: float | None = None,
                 embedding_model: str | None = None, feature_model: str | None = None,
                 use_rules: bool = True, use_model: bool = True, sentences: str = "long",
                 cache: bool = False, cache_path: str | None = None, precision: str = "float32"):
        if not (use_rules or use_model):
            raise ValueError("HarmfulPromptClassifier needs use_rules or use_model (or both)")
        if sentences not in SENTENCE_MODES:
            raise ValueError(f"sentences={sentences!r}: use one of {', '.join(SENTENCE_MODES)}")
        self.sentences = sentences
        if precision not in DTYPES:
            raise ValueError(f"precision={precision!r}: use one of {', '.join(DTYPES)}")
        self.precision = precision  # "bfloat16": the probe's model in bf16 (lm_features); measured, opt-in
        self.head = LinearHead.load(weights or HARMFUL_PROMPT_WEIGHTS) if use_model else None
        meta_threshold = self.head.meta.get("threshold") if self.head else None
        self.threshold = float(threshold if threshold is not None else meta_threshold or DEFAULT_THRESHOLD)
        self.use_rules = use_rules
        self._embedding_model = embedding_model
        self._feature_model = feature_model
        self._cache = self._open_cache(weights or HARMFUL_PROMPT_WEIGHTS, cache_path) if cache and use_model \
            else None

    def _open_cache(self, weights: str, cache_path: str | None):
        from ..core.models import resolve_model
        from .score_cache import ScoreCache, head_file_bytes, model_identity, namespace
        meta = self.head.meta
        if meta.get("features") == "lm_hidden":
            model = model_identity(resolve_model(self._feature_model or meta["feature_model"]))
        else:
            from ..core.embeddings import default_model_path
            model = model_identity(self._embedding_model or default_model_path())
        space = namespace(kind=b"harmful_prompt", head=head_file_bytes(weights), model=model,
                          sentences=self.sentences, precision=self.precision)
        return ScoreCache(space, cache_path)

    def rule_hits(self, prompts: Sequence[str]) -> list[str | None]:
        """Name of the phrase rule that fires on each prompt, or None."""
        return [match_harmful_rule(p or "") for p in prompts]

    def _sentence_windows(self, texts: list[str]) -> list[list[str]]:
        """Sentences to score on their own as well, per request (`lm_features.sentence_windows`; none for
        MiniLM heads)."""
        meta = self.head.meta
        if meta.get("features") != "lm_hidden":
            return [[] for _ in texts]
        from .lm_features import sentence_windows
        return sentence_windows(texts, model=self._feature_model or meta["feature_model"],
                                max_tokens=int(meta["max_tokens"]), mode=self.sentences)

    def _features(self, texts: list[str]):
        meta = self.head.meta
        if meta.get("features") == "lm_hidden":
            from .lm_features import lm_features
            return lm_features(texts, model=self._feature_model or meta["feature_model"], layers=meta["layers"],
                               pools=meta["pools"], max_tokens=int(meta["max_tokens"]), dtype=self.precision)
        return encode(texts, max_tokens=int(meta.get("max_tokens", 128)), model_path=self._embedding_model)

    def score(self, prompts: Sequence[str]) -> list[float]:
        """Harmfulness score in [0, 1] per prompt (RULE_SCORE where a rule fires)."""
        if isinstance(prompts, str):
            raise TypeError("pass a list of prompts, not one string")
        if not prompts:
            return []
        hits = self.rule_hits(prompts) if self.use_rules else [None] * len(prompts)
        scores = [RULE_SCORE if hit else 0.0 for hit in hits]
        if self.head is not None:
            from .score_cache import cached_scores
            todo = [i for i, hit in enumerate(hits) if not hit]  # a rule's score stands whatever the model says
            texts = [prompts[i] if prompts[i] and prompts[i].strip() else " " for i in todo]
            for i, p in zip(todo, cached_scores(texts, self._model_probabilities, self._cache)):
                scores[i] = p
        return scores

    def _model_probabilities(self, texts: list[str]) -> list[float]:
        """The probe's probability per request: the highest over the whole request and its sentence windows."""
        windows = self._sentence_windows(texts)
        flat = texts + [w for ws in windows for w in ws]
        probs = [float(p) for p in self.head.probability(self._features(flat))]
        scores, extra = probs[:len(texts)], iter(probs[len(texts):])
        return [max([s] + [next(extra) for _ in ws]) for s, ws in zip(scores, windows)]

    def predict(self, prompts: Sequence[str]) -> list[bool]:
        """True where a prompt asks for help with harm."""
        return [s >= self.threshold for s in self.score(prompts)]
