"""Finding the judge card (`alignsmith judge card` run folders) for a judge, so every user of a judge can
show how far it agrees with humans and warn when it is near chance. Reads files only; light imports."""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..core.runs import is_done, runs_root

CARD_KIND = "judge_card"


def _same_model(a: str, b: str) -> bool:
    return a == b or Path(a).name == Path(b).name


def find_judge_card(model: str | None, root: str | os.PathLike | None = None) -> dict | None:
    """The newest finished card whose judge model matches `model` (by name or folder name), else None.

    The card dict gains `card_path`. Unfinished folders (no DONE) and unreadable cards are skipped.
    """
    if not model:
        return None
    base = (Path(root) if root is not None else runs_root()) / CARD_KIND
    if not base.exists():
        return None
    for folder in sorted(base.iterdir(), reverse=True):
        card_file = folder / "card.json"
        if not is_done(folder) or not card_file.exists():
            continue
        try:
            card = json.loads(card_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if _same_model(str(card.get("judge_model", "")), str(model)):
            return {**card, "card_path": str(folder)}
    return None


def judge_card_summary(model: str | None, root: str | os.PathLike | None = None) -> dict:
    """What a judge's user records and shows: the card's agreement and warnings, or a loud 'no card'."""
    card = find_judge_card(model, root)
    if card is None:
        return {"judge_card": None, "judge_warnings": [
            f"NO JUDGE CARD for {model}: its agreement with humans is unmeasured (run `alignsmith judge card`)"]}
    return {"judge_card": card["card_path"], "judge_agreement": card.get("agreement"),
            "judge_agreement_ci": card.get("agreement_ci"), "judge_warnings": list(card.get("warnings") or [])}
