"""Single-turn HH-RLHF pairs (one human turn, one assistant reply each side) read from the published
"\\n\\nHuman: … \\n\\nAssistant: …" dialogues: the gold items of judge cards and of the judge-robustness check.

The judge card's default gold is chosen here (`hh_gold`), so that `data import --exclude-gold hh-rlhf` can
hold out exactly the same items from a training set without importing the evaluate package."""
from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

from ..core.errors import InputError
from ..core.paths import data_root

HH_SPLITS = ("helpful-base", "harmless-base")
GOLD_MAX_CHARS = 1200  # longer answers are left out of the gold: a small judge's context must hold both
# The HH-RLHF copy every judge card reads by default: <data folder>/hh_rlhf (core.paths.data_root).

_TURN = re.compile(r"\n\nHuman: (.*?)\n\nAssistant: (.*)\Z", re.S)


def single_turn_hh_pairs(path: str | Path) -> Iterator[tuple[int, str, str, str, dict]]:
    """(line, prompt, better, worse, raw row) for every single-turn pair whose two replies differ."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            try:
                row = json.loads(line)
                good, bad = _TURN.match(row["chosen"]), _TURN.match(row["rejected"])
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise InputError(f"not an HH-RLHF chosen/rejected row ({e})", path=str(path), line=line_no) from None
            if not (good and bad) or "Human:" in good.group(2) or good.group(1) != bad.group(1):
                continue
            better, worse = good.group(2).strip(), bad.group(2).strip()
            if better != worse:
                yield line_no, good.group(1).strip(), better, worse, row


def hh_gold(root: str | Path | None = None, per_split: int = 50, max_chars: int = GOLD_MAX_CHARS,
            skip: int = 0) -> list[dict]:
    """The judge card's gold: from each HH-RLHF test split, the first `per_split` single-turn pairs whose
    answers fit in `max_chars`, after skipping `skip` of them. Items are named `<split>:<line>`."""
    root = Path(root) if root is not None else data_root() / "hh_rlhf"
    items = []
    for split in HH_SPLITS:
        path = root / split / "test.jsonl.gz"
        if not path.exists():
            raise InputError("HH-RLHF test split not found (give --gold FILE)", path=str(path))
        taken, seen = 0, 0
        for line_no, prompt, better, worse, _ in single_turn_hh_pairs(path):
            if max(len(better), len(worse)) > max_chars:
                continue
            seen += 1
            if seen <= skip:
                continue
            items.append({"item": f"{split}:{line_no}", "prompt": [{"role": "user", "content": prompt}],
                          "better": better, "worse": worse})
            taken += 1
            if taken >= per_split:
                break
    return items
