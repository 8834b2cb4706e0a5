"""Holding judge-card gold out of an imported training set (`data import --exclude-gold`).

A reward model measured on the same pairs it was trained on would look better than it is. The gold is
named the way `judge card` names it — `hh-rlhf` (the card's default HH-RLHF test items) or a gold JSONL
file — and every imported pair that is one of its items (same prompt and the same two answers, in either
order, text-normalised) is moved to the quarantine with the gold item's name. Pairs that only share a
prompt with a gold item are kept and counted, so the card can say how close the training set came.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..core.gold_pairs import pair_item_key, read_gold
from ..core.records import prompt_id, stable_hash
from ..judges.hh_pairs import hh_gold
from .base import Record

HH_GOLD = "hh-rlhf"
HELD_OUT_REASON = "import: held out: judge-card gold item (--exclude-gold)"


@dataclass
class GoldHoldOut:
    """The gold items to keep out of a training set, by item key (see `gold_pairs.pair_item_key`)."""

    source: str                     # what the gold is, in words
    items: dict[str, str]           # item key -> gold item name (`helpful-base:169`, `gold.jsonl:3`)
    prompt_ids: set[str] = field(default_factory=set)

    def describe(self) -> dict:
        """What config.yaml and the card record: the source, the item count and a fingerprint of the keys."""
        return {"source": self.source, "gold_items": len(self.items),
                "gold_fingerprint": stable_hash(sorted(self.items), length=12)}

    def split(self, records: list[tuple[int, Record]], rows: list[tuple[int, dict]],
              raw_chars: int) -> tuple[list[tuple[int, Record]], list[dict], dict]:
        """(kept records, quarantine rows of the held-out ones, stats). A source row is held out whole when
        any of its pairs is a gold item, so its SFT row cannot carry the gold's preferred answer in."""
        held_lines: dict[int, str] = {}
        for line, rec in records:
            if rec.chosen and rec.rejected:
                key = pair_item_key(rec.prompt, rec.chosen[-1]["content"], rec.rejected[-1]["content"])
                if key in self.items:
                    held_lines.setdefault(line, self.items[key])
        kept = [(line, rec) for line, rec in records if line not in held_lines]
        raw_by_line = {line: row for line, row in rows if line in held_lines}
        quarantine = [{"line": line, "field": None, "drop_reason": HELD_OUT_REASON, "gold_item": item,
                       "raw": json.dumps(raw_by_line.get(line), ensure_ascii=False, default=str)[:raw_chars]}
                      for line, item in sorted(held_lines.items())]
        shared_prompt = sum(1 for _, rec in kept if rec.chosen and prompt_id(rec.prompt) in self.prompt_ids)
        stats = {**self.describe(), "held_out": len(held_lines),
                 "gold_items_found": len(set(held_lines.values())),
                 "kept_pairs_sharing_a_gold_prompt": shared_prompt}
        return kept, quarantine, stats


def gold_hold_out(spec: str, per_split: int = 50, hh_root: str | Path | None = None) -> GoldHoldOut:
    """The gold named by `spec`: `hh-rlhf` (the first `per_split` usable single-turn pairs of each HH-RLHF
    test split, exactly what `judge card --per-split P --skip S` uses whenever P + S <= per_split) or a
    gold JSONL file (`judge card --gold FILE`: prompt, chosen, rejected)."""
    if spec == HH_GOLD:
        if per_split < 1:
            raise ValueError("--gold-per-split must be >= 1")
        items = hh_gold(hh_root, per_split=per_split)
        source = f"judge-card HH-RLHF gold: first {per_split} usable single-turn pairs per test split"
    else:
        items = read_gold(spec)
        source = f"gold file {spec}"
    keys = {pair_item_key(it["prompt"], it["better"], it["worse"]): it["item"] for it in items}
    return GoldHoldOut(source, keys, {prompt_id(it["prompt"]) for it in items})
