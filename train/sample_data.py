"""Small training sets built from the public data in ../shared/data, for benchmarks and integration tests.

HH-RLHF pairs come out in the same TRL conversational form `alignsmith pairs` writes to dpo.parquet;
IFEval prompts keep their constraints, as in prompts.parquet.
"""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path


def hh_turns(dialogue: str) -> list[tuple[str, str]]:
    """(speaker, text) turns of an HH-RLHF "\\n\\nHuman: ... \\n\\nAssistant: ..." dialogue."""
    parts = re.split(r"\n\n(Human|Assistant): ", dialogue)
    return [(parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]


def hh_rlhf_pairs(path: str | Path, n: int, max_chars: int = 300) -> list[dict]:
    """The first `n` single-turn HH-RLHF pairs whose two answers differ and are short (prompt/chosen/rejected)."""
    pairs = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            chosen, rejected = hh_turns(row["chosen"]), hh_turns(row["rejected"])
            if len(chosen) != 2 or len(rejected) != 2 or chosen[0] != rejected[0]:
                continue
            if chosen[1][1] == rejected[1][1] or len(chosen[1][1]) + len(rejected[1][1]) > max_chars:
                continue
            pairs.append({"prompt": [{"role": "user", "content": chosen[0][1]}],
                          "chosen": [{"role": "assistant", "content": chosen[1][1]}],
                          "rejected": [{"role": "assistant", "content": rejected[1][1]}],
                          "prompt_id": f"hh-{len(pairs)}", "strategy": "hh-rlhf"})
            if len(pairs) == n:
                break
    return pairs


def sft_rows_from_pairs(pairs: list[dict]) -> list[dict]:
    """prompt/completion rows: each pair's chosen answer."""
    return [{"prompt": p["prompt"], "completion": p["chosen"]} for p in pairs]


def ifeval_prompts(path: str | Path, n: int, max_chars: int = 300) -> list[dict]:
    """The first `n` IFEval prompts (trimmed to `max_chars`) with their constraints."""
    from alignsmith.curate.core.datafiles import read_rows
    rows = read_rows(path)[:n]
    return [{"prompt": [{"role": "user", "content": r["prompt"][:max_chars]}],
             "instruction_id_list": r["instruction_id_list"], "kwargs": r["kwargs"]} for r in rows]
