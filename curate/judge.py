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

from .backends import GenParams, get_backend
from .judge_cache import JudgeCache, judgement_key
from .judge_prompts import (CRITERIA, Parsed, pairwise_messages, parse_pairwise, parse_pointwise,
                            pointwise_messages, template_hash)
from .records import Messages, as_messages
from .scoring import SCORERS, Scorer

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

    def __init__(self, mode: str = "pairwise", judge: LLMJudge | None = None, **options: Any):
        super().__init__(**options)
        if mode not in ("pointwise", "pairwise"):
            raise ValueError(f"judge mode {mode!r} is unknown; use 'pointwise' or 'pairwise'")
        self.mode = mode
        self.judge = judge or LLMJudge(**options)
        self.judgements: list[dict] = []
        self.stats: dict[str, Any] = {"mode": mode, "model": self.judge.model}

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
        verdicts = self.judge.pairwise([(as_messages(rows[i]["prompt"]), str(rows[i]["response"]),
                                         str(rows[j]["response"])) for i, j in pairs])
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

    def _add_stats(self, **counts: int) -> None:
        for key, value in counts.items():
            self.stats[key] = self.stats.get(key, 0) + value
