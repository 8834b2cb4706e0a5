"""Judges for win rates: each returns, per item, the model's outcome against the reference.

Outcomes are 1 (model wins), 0 (reference wins) or 0.5 (tie). Judges are configuration (`judge=...`):
- `verifiers`: the shared IFEval verifiers; more instructions followed (loose) wins;
- `reward`: a reward model (sequence-classification head with one logit); higher reward wins;
- `llm`: a generative judge asked "A or B" in both orders; a win must survive the swap, else a tie.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from alignsmith.curate.records import Messages, user_text
from alignsmith.curate.registry import Registry

from .winrate import outcome_from_scores


@dataclass
class Matchup:
    """One item to judge: the prompt, both answers, and task fields (e.g. instruction lists)."""

    prompt: Messages
    model_response: str
    reference_response: str
    info: dict


class Judge:
    """Base class: `judge(matchups) -> list[float]` outcomes for the model."""

    name: ClassVar[str]

    def __init__(self, **options: Any):
        self.options = options
        self.notes: dict[str, Any] = {}   # counts worth recording (e.g. unparseable judge replies)

    def judge(self, matchups: Sequence[Matchup]) -> list[float]:
        """The model's outcome per matchup: 1 win, 0.5 tie, 0 loss."""
        raise NotImplementedError


JUDGES: Registry[type[Judge]] = Registry("win-rate judge")


@JUDGES.register("verifiers")
class VerifierJudge(Judge):
    """Counts instructions followed (loose mode) by each answer; needs `instruction_id_list` on items."""

    name = "verifiers"

    def judge(self, matchups: Sequence[Matchup]) -> list[float]:
        from alignsmith.curate.verifiers import verify
        out = []
        for i, m in enumerate(matchups):
            ids = m.info.get("instruction_id_list")
            if not ids:
                raise ValueError(f"winrate item {i} has no instruction_id_list: the verifiers judge needs "
                                 "prompts with verifiable instructions (use judge=reward or judge=llm)")
            kwargs = m.info.get("kwargs") or [{} for _ in ids]
            text = user_text(m.prompt)
            mode = self.options.get("mode", "loose")
            mine = sum(verify(ids, kwargs, m.model_response, prompt=text, mode=mode))
            theirs = sum(verify(ids, kwargs, m.reference_response, prompt=text, mode=mode))
            out.append(outcome_from_scores(mine, theirs))
        return out


@JUDGES.register("reward")
class RewardModelJudge(Judge):
    """Options: `judge_model` (a local sequence-classification folder), `tie_margin`, `batch_size`."""

    name = "reward"

    def judge(self, matchups: Sequence[Matchup]) -> list[float]:
        model_path = self.options.get("judge_model")
        if not model_path:
            raise ValueError("the reward judge needs judge_model=<path to a reward model folder>")
        # Both answers of every item go through one loaded model: a second load could differ
        # (e.g. a freshly initialised head), which would bias the comparison.
        rewards = self._rewards(model_path, [(m.prompt, m.model_response) for m in matchups]
                                + [(m.prompt, m.reference_response) for m in matchups])
        mine, theirs = rewards[:len(matchups)], rewards[len(matchups):]
        margin = float(self.options.get("tie_margin", 0.0))
        return [outcome_from_scores(a, b, margin) for a, b in zip(mine, theirs)]

    def _rewards(self, model_path: str, conversations: list[tuple[Messages, str]]) -> list[float]:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from alignsmith.curate.models import resolve_model
        path = resolve_model(model_path)
        tok = AutoTokenizer.from_pretrained(path)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, trust_remote_code=False)
        model.config.pad_token_id = tok.pad_token_id
        model.eval()
        texts = [tok.apply_chat_template(list(p) + [{"role": "assistant", "content": r}], tokenize=False)
                 if tok.chat_template else f"{user_text(p)}\n{r}" for p, r in conversations]
        size = int(self.options.get("batch_size", 8))
        scores: list[float] = []
        with torch.no_grad():
            for start in range(0, len(texts), size):
                batch = tok(texts[start:start + size], return_tensors="pt", padding=True, truncation=True,
                            max_length=int(self.options.get("max_length", 1024)))
                scores.extend(model(**batch).logits[:, 0].float().tolist())
        return scores


JUDGE_TEMPLATE = (
    "You are judging two answers to the same request. Pick the one that is more helpful, correct and "
    "honest; ignore length unless it matters.\n\n[Request]\n{request}\n\n[Answer A]\n{a}\n\n[Answer B]\n{b}\n\n"
    "Reply with a single letter: A or B.")


def parse_choice(text: str) -> str | None:
    """'A' or 'B' from a judge reply (first letter after optional punctuation), else None."""
    stripped = text.strip().lstrip("*([\"'").upper()
    if stripped[:1] in ("A", "B") and (len(stripped) == 1 or not stripped[1].isalpha()):
        return stripped[0]
    return None


@JUDGES.register("llm")
class LLMJudge(Judge):
    """Asks a generative model in both orders. Options: `judge_model`, `judge_backend`, `max_chars`.

    With no `judge_model`, the runner's model judges itself — weak and biased, fine for plumbing checks;
    point `judge_model` at a stronger model for real comparisons.
    """

    name = "llm"

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.backend = options.get("backend")

    def _prompt(self, m: Matchup, first: str, second: str) -> Messages:
        cap = int(self.options.get("max_chars", 1500))
        return [{"role": "user", "content": JUDGE_TEMPLATE.format(request=user_text(m.prompt)[:cap],
                                                                  a=first[:cap], b=second[:cap])}]

    def judge(self, matchups: Sequence[Matchup]) -> list[float]:
        from alignsmith.curate.backends import GenParams, get_backend
        backend = self.backend
        if backend is None:
            if not self.options.get("judge_model"):
                raise ValueError("the llm judge needs judge_model=<model> (or a model being evaluated)")
            backend = get_backend(self.options.get("judge_backend", "vllm"), self.options["judge_model"])
        prompts = [self._prompt(m, m.model_response, m.reference_response) for m in matchups]
        prompts += [self._prompt(m, m.reference_response, m.model_response) for m in matchups]
        params = GenParams(n=1, temperature=0.0, top_p=1.0, max_tokens=4, seed=0)
        replies = [c[0].text for c in backend.generate(prompts, params)]
        n = len(matchups)
        outcomes, unparsed = [], 0
        for forward, swapped in zip(replies[:n], replies[n:]):
            a, b = parse_choice(forward), parse_choice(swapped)
            unparsed += (a is None) + (b is None)
            # Model is "A" in the first order and "B" in the second: each vote counts half.
            votes = (a == "A") * 0.5 + (a is None) * 0.25 + (b == "B") * 0.5 + (b is None) * 0.25
            outcomes.append(votes)
        self.notes["unparsed_replies"] = unparsed
        return outcomes
