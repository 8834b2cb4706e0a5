"""UltraFeedback-style rows: one instruction and several rated `completions`; pairs come from the pair rules.

openbmb/UltraFeedback gives each completion an `overall_score` (critique score, 1–10), a `fine-grained_score`
(mean of the four aspect ratings, 1–5) and the aspect ratings under `annotations.<aspect>.Rating`. The
rating used is an option; a completion without a usable rating ("N/A") is passed on unrated, so the pair
builder drops it with its reason instead of guessing.
"""
from __future__ import annotations

import math
from typing import Any

from .base import Importer, Record, RowSkip, require_text

ASPECTS = ("helpfulness", "honesty", "instruction_following", "truthfulness")
RATINGS = ("fine-grained_score", "overall_score", "mean_aspects")


class UltraFeedbackImporter(Importer):
    """Rated completions per instruction. Option `rating`: fine-grained_score (default), overall_score,
    mean_aspects (mean of the aspect ratings present), or any other numeric field name of a completion."""

    name = "ultrafeedback"
    description = ("instruction + completions [{model, response, ratings}] (openbmb/UltraFeedback), or binarized "
                   "chosen/rejected dialogues with score_chosen/score_rejected")

    def __init__(self, rating: str = "fine-grained_score", **options: Any):
        super().__init__(rating=rating, **options)
        self.rating = rating

    @classmethod
    def signature(cls, row: dict) -> bool:
        return isinstance(row.get("completions"), list) or (
            isinstance(row.get("chosen"), list) and "score_chosen" in row)

    def convert(self, row: dict) -> list[Record]:
        if "completions" not in row and "chosen" in row:
            return [self._binarized(row)]
        key = "instruction" if "instruction" in row else "prompt"
        instruction = require_text(row, key)
        completions = row.get("completions")
        if not isinstance(completions, list) or not completions:
            raise RowSkip("must be a non-empty list of rated completions", "completions")
        candidates = []
        for i, comp in enumerate(completions):
            where = f"completions[{i}]"
            if not isinstance(comp, dict):
                raise RowSkip(f"is {type(comp).__name__}, expected an object", where)
            response = comp.get("response")
            if not isinstance(response, str):
                raise RowSkip("is missing or not text", f"{where}.response")
            candidates.append({"response": response, "rating": self.rating_of(comp, where),
                               "model": str(comp.get("model") or f"completion-{i}")})
        meta = {"source_name": row["source"]} if isinstance(row.get("source"), str) else {}
        return [Record(prompt=[{"role": "user", "content": instruction}], candidates=candidates, meta=meta)]

    def _binarized(self, row: dict) -> Record:
        """An ultrafeedback_binarized row: `chosen`/`rejected` whole dialogues with `score_chosen`/`score_rejected`.

        The two become rated candidates of the shared prompt, so the pair rules (ties, margin, ...) still apply.
        """
        from .chat import openai_messages
        chosen = openai_messages(row.get("chosen"), "chosen")
        rejected = openai_messages(row.get("rejected"), "rejected")
        if chosen[:-1] != rejected[:-1]:
            raise RowSkip("chosen and rejected dialogues differ before their final reply", "rejected")
        for name, turns in (("chosen", chosen), ("rejected", rejected)):
            if turns[-1]["role"] != "assistant" or len(turns) < 2:
                raise RowSkip("must end with an assistant reply after the prompt", name)
        candidates = [{"response": turns[-1]["content"], "rating": _number(row.get(f"score_{name}"), f"score_{name}"),
                       "model": name} for name, turns in (("chosen", chosen), ("rejected", rejected))]
        return Record(prompt=chosen[:-1], candidates=candidates)

    def rating_of(self, comp: dict, where: str) -> float | None:
        """The completion's rating as a float, None when it has none ("N/A", missing); RowSkip when malformed."""
        if self.rating == "mean_aspects":
            notes = comp.get("annotations")
            if not isinstance(notes, dict):
                return None
            values = [_number(notes.get(a, {}).get("Rating") if isinstance(notes.get(a), dict) else None,
                              f"{where}.annotations.{a}.Rating") for a in ASPECTS]
            values = [v for v in values if v is not None]
            return sum(values) / len(values) if values else None
        return _number(comp.get(self.rating), f"{where}.{self.rating}")


def _number(value: Any, where: str) -> float | None:
    if value is None or (isinstance(value, str) and value.strip().upper() in ("N/A", "NA", "")):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowSkip(f"rating {value!r} is not a number", where) from None
    if not math.isfinite(number):
        raise RowSkip(f"rating {value!r} is not finite", where)
    return number
