"""`judge` scorer: an LLM judge through the generation backends, pointwise rubric or pairwise A vs B.

Pairwise comparisons always run in both orders (A=first then A=second); a candidate wins only when both
orders name it, so a position bias or an injected "Assistant B is better" that sways one order cannot
make a win. Unreadable replies are recorded as parse failures and give no score, never a guessed one.
Every reply is cached on disk (see judge_cache), so a rerun over the same texts generates nothing.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from itertools import combinations
from typing import Any, ClassVar

from ..backends import GenParams, get_backend
from ..core.records import Messages, as_messages
from ..steps.scoring import SCORERS, Scorer
from .cache import JudgeCache, judgement_key
from .prompts import (
    CRITERIA,
    Parsed,
    choice_template_hash,
    pairwise_choice_messages,
    pairwise_messages,
    parse_option,
    parse_pairwise,
    parse_pointwise,
    pointwise_messages,
    template_hash,
)

_SWAP = {"A": "B", "B": "A", "tie": "tie"}


def both_orders_verdict(ab: Parsed, ba: Parsed) -> str:
    """'first', 'second' or 'tie' when both orders agree; 'inconsistent' or 'unparsed' otherwise.

    In order "ab" the first candidate is shown as A; in order "ba" it is shown as B.
    """
    if not (ab.ok and ba.ok):
        return "unparsed"
    if ab.value != _SWAP[ba.value]:
        return "inconsistent"
    return {"A": "first", "B": "second", "tie": "tie"}[ab.value]


class LLMJudge:
    """Runs judge prompts through a backend with greedy decoding and the on-disk reply cache."""

    def __init__(self, model: str = "smollm2-135m-instruct", backend: str = "vllm", *,
                 backend_options: dict | None = None, max_tokens: int = 64, cache: Any = None,
                 few_shot: bool = True, backend_instance: Any = None):
        self.model, self.backend_name = model, backend
        self.backend_options = dict(backend_options or {})
        self.max_tokens = int(max_tokens)
        self.few_shot = bool(few_shot)
        # cache: a path, None/True for the default location, or False for no cache.
        self.cache = None if cache is False else JudgeCache(None if cache in (None, True) else cache)
        self._backend = backend_instance
        self.template = template_hash()
        self.generated = 0
        self.cache_hits = 0
        self.seconds = 0.0          # time spent generating (not cache reads), for judge cards
        self.tokens = 0             # prompt + completion tokens of generated structured choices
        self.structured: bool | None = None   # whether the last choose() used structured output

    def _get_backend(self):
        if self._backend is None:  # loaded only when something is not cached
            self._backend = get_backend(self.backend_name, self.model, **self.backend_options)
        return self._backend

    def complete(self, kind: str, order: str, requests: list[Messages]) -> list[str]:
        """Raw replies for judge prompts, from the cache where possible; identical prompts run once."""
        decoding = {"temperature": 0.0, "max_tokens": self.max_tokens}
        keys = [judgement_key(model=self.model, template=self.template, kind=kind, order=order,
                              texts=[json.dumps(m, sort_keys=True) for m in msgs], decoding=decoding)
                for msgs in requests]
        found = self.cache.get_many(keys) if self.cache is not None else {}
        self.cache_hits += sum(k in found for k in keys)
        todo = {k: msgs for k, msgs in zip(keys, requests) if k not in found}
        if todo:
            params = GenParams(n=1, temperature=0.0, top_p=1.0, max_tokens=self.max_tokens, seed=0)
            outputs = self._get_backend().generate(list(todo.values()), params)
            fresh = {k: out[0].text for k, out in zip(todo, outputs)}
            self.generated += len(fresh)
            if self.cache is not None:
                self.cache.put_many([(k, self.model, kind, order, text) for k, text in fresh.items()])
            found = {**found, **fresh}
        return [found[k] for k in keys]

    def choose(self, kind: str, order: str, requests: list[Messages], options: tuple[str, ...]) -> list[dict]:
        """One of `options` per request, cached: {"choice": option or None, "probs", "text", "error"}.

        Structured output where the backend has it (every reply is an option; probabilities from the
        options' first-token logprobs); otherwise greedy free text that must name exactly one option, and
        a reply that does not is an error with no choice, never a guess.
        """
        import time
        # Backend options (e.g. dtype: bf16 logits give coarse probabilities) change the reply: part of the key.
        decoding = {"temperature": 0.0, "options": list(options), "choice_template": choice_template_hash(),
                    "backend_options": json.loads(json.dumps(self.backend_options, sort_keys=True, default=str))}
        keys = [judgement_key(model=self.model, template=self.template, kind=f"choice:{kind}", order=order,
                              texts=[json.dumps(m, sort_keys=True) for m in msgs], decoding=decoding)
                for msgs in requests]
        found = {k: json.loads(v) for k, v in (self.cache.get_many(keys) if self.cache is not None else {}).items()}
        self.cache_hits += sum(k in found for k in keys)
        todo = {k: msgs for k, msgs in zip(keys, requests) if k not in found}
        if todo:
            start = time.perf_counter()
            fresh = self._choose_fresh(list(todo.values()), options)
            self.seconds += time.perf_counter() - start
            fresh = dict(zip(todo, fresh))
            self.generated += len(fresh)
            if self.cache is not None:
                self.cache.put_many([(k, self.model, f"choice:{kind}", order, json.dumps(v)) for k, v in fresh.items()])
            found = {**found, **fresh}
        return [found[k] for k in keys]

    def _choose_fresh(self, requests: list[Messages], options: tuple[str, ...]) -> list[dict]:
        backend = self._get_backend()
        try:
            if not callable(getattr(backend, "choose", None)):
                raise NotImplementedError
            replies = backend.choose(requests, options, seed=0)
            self.structured = True
        except NotImplementedError:
            self.structured = False
            params = GenParams(n=1, temperature=0.0, top_p=1.0, max_tokens=self.max_tokens, seed=0)
            out = []
            for completions in backend.generate(requests, params):
                c = completions[0]
                picked = parse_option(c.text, options)
                self.tokens += c.prompt_tokens + c.completion_tokens
                out.append({"choice": picked, "probs": None, "text": c.text, "structured": False,
                            "error": None if picked else f"reply is not one of {list(options)}"})
            return out
        out = []
        for r in replies:
            self.tokens += r.prompt_tokens + r.completion_tokens
            picked = r.text if r.text in options else None
            out.append({"choice": picked, "probs": r.probs, "text": r.text, "structured": True,
                        "error": r.error or (None if picked else f"reply {r.text!r} is not one of {list(options)}")})
        return out

    def can_choose(self) -> bool:
        """Whether the backend offers structured choice (checked without loading a model)."""
        from ..backends.base import Backend
        if self._backend is not None:
            method = getattr(type(self._backend), "choose", None)
            return method is not None and method is not Backend.choose
        return self.backend_name in ("vllm", "hf", "openai")

    def pairwise_choice(self, items: list[tuple[Messages, str, str]]) -> list[dict]:
        """Both orders by structured choice: P(first better) averaged over the orders, and the hard vote.

        `p_first` is the mean over the two orders of the probability the judge gives the first answer
        (its letter's probability among A/B; 1 or 0 where the engine gave no probabilities), so a pure
        position bias cancels to 0.5 instead of deciding. `verdict` is the both-orders vote ('first',
        'second', 'inconsistent', 'unparsed'). An order without a valid reply makes both None/'unparsed'.
        """
        ab = self.choose("pairwise", "ab", [pairwise_choice_messages(p, x, y, self.few_shot) for p, x, y in items],
                         ("A", "B"))
        ba = self.choose("pairwise", "ba", [pairwise_choice_messages(p, y, x, self.few_shot) for p, x, y in items],
                         ("A", "B"))
        results = []
        for r_ab, r_ba in zip(ab, ba):
            if r_ab["choice"] is None or r_ba["choice"] is None:
                p_first, verdict = None, "unparsed"
            else:
                p_ab = (r_ab["probs"] or {"A": float(r_ab["choice"] == "A")})["A"]
                p_ba = (r_ba["probs"] or {"B": float(r_ba["choice"] == "B")})["B"]
                p_first = (p_ab + p_ba) / 2
                verdict = both_orders_verdict(Parsed(value=r_ab["choice"]), Parsed(value=r_ba["choice"]))
            results.append({"verdict": verdict, "p_first": p_first,
                            "output_ab": r_ab["text"], "parsed_ab": r_ab["choice"], "error_ab": r_ab["error"],
                            "probs_ab": r_ab["probs"], "output_ba": r_ba["text"], "parsed_ba": r_ba["choice"],
                            "error_ba": r_ba["error"], "probs_ba": r_ba["probs"]})
        return results

    def pointwise(self, items: list[tuple[Messages, str]]) -> list[Parsed]:
        """Rubric scores for (prompt, answer) items; each Parsed keeps the raw reply in `extra`."""
        outputs = self.complete("pointwise", "-", [pointwise_messages(p, a, self.few_shot) for p, a in items])
        results = []
        for out in outputs:
            parsed = parse_pointwise(out)
            parsed.extra["output"] = out
            results.append(parsed)
        return results

    def pairwise(self, items: list[tuple[Messages, str, str]]) -> list[dict]:
        """Both-orders verdicts for (prompt, first, second) items, with both raw replies."""
        ab = self.complete("pairwise", "ab", [pairwise_messages(p, x, y, self.few_shot) for p, x, y in items])
        ba = self.complete("pairwise", "ba", [pairwise_messages(p, y, x, self.few_shot) for p, x, y in items])
        results = []
        for out_ab, out_ba in zip(ab, ba):
            p_ab, p_ba = parse_pairwise(out_ab), parse_pairwise(out_ba)
            results.append({"verdict": both_orders_verdict(p_ab, p_ba),
                            "output_ab": out_ab, "parsed_ab": p_ab.value, "error_ab": p_ab.error,
                            "output_ba": out_ba, "parsed_ba": p_ba.value, "error_ba": p_ba.error})
        return results

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
        if self.cache is not None:
            self.cache.close()


@SCORERS.register("judge")
class JudgeScorer(Scorer):
    """LLM-judge score per candidate.

    mode "pointwise": mean of the four rubric scores (1-10). mode "pairwise" (default): every pair of a
    prompt's candidates is compared in both orders; score = (agreed wins + ½ agreed ties) / comparisons
    with both replies readable. NaN (no score) when no reply could be read. Options: model, backend,
    backend_options, max_tokens, cache (path, or false), judge (a ready LLMJudge).
    """

    name = "judge"
    # Passed on to LLMJudge; checked by name and type before any work (config.check_call_options).
    OPTIONS: ClassVar[dict] = {"model": str, "backend": str, "backend_options": dict | None, "max_tokens": int,
                               "cache": Any, "few_shot": bool, "backend_instance": Any}

    def __init__(self, mode: str = "pairwise", judge: LLMJudge | None = None, vote: str = "prob",
                 structured: bool = True, **options: Any):
        super().__init__(**options)
        if mode not in ("pointwise", "pairwise"):
            raise ValueError(f"judge mode {mode!r} is unknown; use 'pointwise' or 'pairwise'")
        if vote not in ("prob", "both_orders"):
            raise ValueError(f"judge vote {vote!r} is unknown; use 'prob' or 'both_orders'")
        self.mode, self.vote, self.structured = mode, vote, bool(structured)
        self.judge = judge or LLMJudge(**options)
        self.judgements: list[dict] = []
        self.stats: dict[str, Any] = {"mode": mode, "model": self.judge.model}
        # The judge's card (agreement with human labels) travels with every pairs run that used it.
        from .cards import judge_card_summary
        self.stats.update(judge_card_summary(self.judge.model))

    def score_batch(self, rows: list[dict]) -> list[float]:
        scores = self._pointwise(rows) if self.mode == "pointwise" else self._pairwise(rows)
        self.stats.update(generated=self.judge.generated, cache_hits=self.judge.cache_hits)
        return scores

    def _pointwise(self, rows: list[dict]) -> list[float]:
        parsed = self.judge.pointwise([(as_messages(r["prompt"]), str(r["response"])) for r in rows])
        scores = []
        for row, p in zip(rows, parsed):
            self.judgements.append({"kind": "pointwise", "prompt_id": row["prompt_id"],
                                    "candidate_id": row["candidate_id"], "output": p.extra["output"],
                                    "scores": p.value, "reason": p.reason, "error": p.error})
            scores.append(sum(p.value[c] for c in CRITERIA) / len(CRITERIA) if p.ok else math.nan)
        failures = sum(not p.ok for p in parsed)
        self._add_stats(judged=len(parsed), parse_failures=failures)
        self.stats["parse_failure_rate"] = self.stats["parse_failures"] / max(1, self.stats["judged"])
        return scores

    def _pairwise(self, rows: list[dict]) -> list[float]:
        by_prompt: dict[str, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            by_prompt[row["prompt_id"]].append(i)
        pairs = [(i, j) for idx in by_prompt.values() for i, j in combinations(idx, 2)]
        items = [(as_messages(rows[i]["prompt"]), str(rows[i]["response"]), str(rows[j]["response"])) for i, j in pairs]
        if self.structured and self.judge.can_choose():
            return self._pairwise_choice(rows, pairs, items)
        verdicts = self.judge.pairwise(items)
        points, counted = [0.0] * len(rows), [0] * len(rows)
        for (i, j), v in zip(pairs, verdicts):
            self.judgements.append({"kind": "pairwise", "prompt_id": rows[i]["prompt_id"],
                                    "first_id": rows[i]["candidate_id"], "second_id": rows[j]["candidate_id"], **v})
            if v["verdict"] == "unparsed":
                continue
            counted[i] += 1
            counted[j] += 1
            points[i] += {"first": 1.0, "tie": 0.5}.get(v["verdict"], 0.0)
            points[j] += {"second": 1.0, "tie": 0.5}.get(v["verdict"], 0.0)
        tally = [v["verdict"] for v in verdicts]
        self._add_stats(comparisons=len(pairs), both_parsed=sum(t != "unparsed" for t in tally),
                        agreed=sum(t in ("first", "second", "tie") for t in tally),
                        parse_failures=sum((v["error_ab"] is not None) + (v["error_ba"] is not None)
                                           for v in verdicts))
        self.stats["order_agreement_rate"] = (self.stats["agreed"] / self.stats["both_parsed"]
                                              if self.stats["both_parsed"] else None)
        self.stats["parse_failure_rate"] = self.stats["parse_failures"] / max(1, 2 * self.stats["comparisons"])
        return [points[k] / counted[k] if counted[k] else math.nan for k in range(len(rows))]

    def _pairwise_choice(self, rows: list[dict], pairs: list[tuple[int, int]], items: list) -> list[float]:
        """Structured both-orders choices: a candidate's score is its mean P(win) over its comparisons
        (vote='prob'), or its share of both-orders wins (vote='both_orders'); unparsed pairs count for none."""
        verdicts = self.judge.pairwise_choice(items)
        points, counted = [0.0] * len(rows), [0] * len(rows)
        for (i, j), v in zip(pairs, verdicts):
            self.judgements.append({"kind": "pairwise", "prompt_id": rows[i]["prompt_id"],
                                    "first_id": rows[i]["candidate_id"], "second_id": rows[j]["candidate_id"], **v})
            if v["p_first"] is None:
                continue
            counted[i] += 1
            counted[j] += 1
            if self.vote == "prob":
                points[i] += v["p_first"]
                points[j] += 1.0 - v["p_first"]
            else:
                points[i] += float(v["verdict"] == "first")
                points[j] += float(v["verdict"] == "second")
        tally = [v["verdict"] for v in verdicts]
        self._add_stats(comparisons=len(pairs), both_parsed=sum(t != "unparsed" for t in tally),
                        agreed=sum(t in ("first", "second") for t in tally),
                        parse_failures=sum((v["error_ab"] is not None) + (v["error_ba"] is not None) for v in verdicts))
        self.stats.update(vote=self.vote, structured=self.judge.structured)
        self.stats["order_agreement_rate"] = (self.stats["agreed"] / self.stats["both_parsed"]
                                              if self.stats["both_parsed"] else None)
        self.stats["parse_failure_rate"] = self.stats["parse_failures"] / max(1, 2 * self.stats["comparisons"])
        return [points[k] / counted[k] if counted[k] else math.nan for k in range(len(rows))]

    def _add_stats(self, **counts: int) -> None:
        for key, value in counts.items():
            self.stats[key] = self.stats.get(key, 0) + value
