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
    description = "instruction + completions [{model, response, ratings}] (openbmb/UltraFeedback)"

    def __init__(self, rating: str = "fine-grained_score", **options: Any):
        super().__init__(rating=rating, **options)
        self.rating = rating

    @classmethod
    def signature(cls, row: dict) -> bool:
        return isinstance(row.get("completions"), list)

    def convert(self, row: dict) -> list[Record]:
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
