"""Judges for win rates: each returns, per item, the model's outcome against the reference.

Outcomes are 1 (model wins), 0 (reference wins) or 0.5 (tie). Judges are configuration (`judge=...`):
- `verifiers`: the shared IFEval verifiers; more instructions followed (loose) wins;
- `reward`: a reward model (sequence-classification head with one logit); higher reward wins;
- `llm`: a generative judge asked "A or B" in both orders by structured output (curate.judges.judge); the outcome is
  P(model better) averaged over the orders, or the hard both-orders vote.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from alignsmith.curate.core.records import Messages, user_text
from alignsmith.curate.core.registry import Registry

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

    def judge(self, matchups: Sequence[Matchup]) -> list[float | None]:
        """The model's outcome per matchup: 1 win, 0.5 tie, 0 loss (or a probability; None: no verdict)."""
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

        from alignsmith.curate.core.models import resolve_model
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
        # Each distinct text is scored once: an answer identical to the reference must tie exactly, and the
        # same text in two batches of different padding can differ in the last float bits.
        distinct = list(dict.fromkeys(texts))
        # Batches of similar length pad less (the reward is read at each text's last real token, so the
        # grouping does not change a score beyond float rounding); scores go back in input order.
        order = sorted(range(len(distinct)), key=lambda i: len(distinct[i]))
        by_text: dict[str, float] = {}
        with torch.no_grad():
            for start in range(0, len(order), size):
                idx = order[start:start + size]
                batch = tok([distinct[i] for i in idx], return_tensors="pt", padding=True, truncation=True,
                            max_length=int(self.options.get("max_length", 1024)))
                for i, value in zip(idx, model(**batch).logits[:, 0].float().tolist()):
                    by_text[distinct[i]] = value
        return [by_text[t] for t in texts]


def parse_choice(text: str) -> str | None:
    """'A' or 'B' from a free-text judge reply that names exactly one letter (punctuation ignored), else None."""
    from alignsmith.curate.judges.prompts import parse_option
    return parse_option(text, ("A", "B"))


@JUDGES.register("llm")
class LLMJudge(Judge):
    """A generative judge: the one implementation in `alignsmith.curate.judges.judge` (injection-guarded prompts,
    reply cache, structured A/B choice in both orders).

    Options: `judge_model`, `judge_backend` (vllm | hf | openai), `judge_backend_options`, `vote` ("prob":
    the model's outcome is P(model better) averaged over both orders, the default; "both_orders": 1 or 0
    when both orders agree, 0.5 when they disagree), `max_chars`, `cache` (path, or false). An item whose
    reply could not be read in either order has no outcome (None): it never counts as a vote.
    With no `judge_model`, the runner's model judges itself — weak and biased, fine for plumbing checks.
    """

    name = "llm"

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.backend = options.get("backend")
        if options.get("vote", "prob") not in ("prob", "both_orders"):
            raise ValueError(f"llm judge vote {options.get('vote')!r} is unknown; use 'prob' or 'both_orders'")

    def core(self):
        """The shared judge (curate.judges.judge.LLMJudge) this win-rate judge runs through."""
        from alignsmith.curate.judges.judge import LLMJudge as CoreJudge
        model = self.options.get("judge_model") or self.options.get("self_model")
        if self.backend is None and not model:
            raise ValueError("the llm judge needs judge_model=<model> (or a model being evaluated)")
        # Without a model name the cache key would not say who judged: no cache then.
        cache = self.options.get("cache") if model else False
        return CoreJudge(model=str(model or "unnamed"), backend=self.options.get("judge_backend", "vllm"),
                         backend_options=self.options.get("judge_backend_options"), cache=cache,
                         backend_instance=self.backend)

    def judge(self, matchups: Sequence[Matchup]) -> list[float | None]:
        cap = int(self.options.get("max_chars", 1500))
        core = self.core()
        try:
            results = core.pairwise_choice([(m.prompt, m.model_response[:cap], m.reference_response[:cap])
                                            for m in matchups])
        finally:
            if self.backend is None:
                core.close()  # a judge model loaded here is released here; a shared engine is not
            elif core.cache is not None:
                core.cache.close()
        vote = self.options.get("vote", "prob")
        outcomes: list[float | None] = []
        for r in results:
            if r["p_first"] is None:
                outcomes.append(None)
            elif vote == "prob":
                outcomes.append(r["p_first"])
            else:
                outcomes.append({"first": 1.0, "second": 0.0}.get(r["verdict"], 0.5))
        parsed = [r for r in results if r["verdict"] != "unparsed"]
        self.notes.update(
            unparsed_items=len(results) - len(parsed), structured=core.structured, vote=vote,
            parse_failures=sum((r["error_ab"] is not None) + (r["error_ba"] is not None) for r in results),
            position_consistency=(sum(r["verdict"] in ("first", "second") for r in parsed) / len(parsed)
                                  if parsed else None),
            generated=core.generated, cache_hits=core.cache_hits)
        self.last_results = results
        return outcomes
