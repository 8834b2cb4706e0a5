"""Human-labelled gold pairs (what judge cards are measured on): a user's gold file, and the item key that
says whether a training pair is one of them, so a training set can hold the gold out."""
from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .records import Messages, as_messages, normalise_text, prompt_id, stable_hash


def read_gold(path: str) -> list[dict]:
    """User gold labels: JSONL with `prompt` (text or messages), `chosen` (human-preferred), `rejected`."""
    from .datafiles import iter_rows
    items = []
    for line, row in iter_rows(path):
        for key in ("prompt", "chosen", "rejected"):
            if row.get(key) in (None, ""):
                raise InputError("gold pairs need prompt, chosen (human-preferred) and rejected", path=path,
                                 line=line, field=key)
        items.append({"item": f"{Path(path).name}:{line}", "prompt": as_messages(row["prompt"]),
                      "better": str(row["chosen"]), "worse": str(row["rejected"])})
    if not items:
        raise InputError("no gold pairs in the file", path=path)
    return items


def pair_item_key(prompt: Messages | str, answer_a: str, answer_b: str) -> str:
    """One key per item: the prompt and its two answers, text-normalised, in either order (the same item
    with the labels swapped is still the same item: training on it would leak the gold all the same)."""
    answers = sorted(normalise_text(a) for a in (answer_a, answer_b))
    return stable_hash([prompt_id(prompt), answers], length=24)
