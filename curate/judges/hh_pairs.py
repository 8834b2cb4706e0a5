"""Single-turn HH-RLHF pairs (one human turn, one assistant reply each side) read from the published
"\\n\\nHuman: … \\n\\nAssistant: …" dialogues: the gold items of judge cards and of the judge-robustness check."""
from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

from ..core.errors import InputError

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
