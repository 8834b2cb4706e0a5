"""Constraint-augmented prompts: attach 1–3 compatible, verifiable IFEval constraints to plain instructions.

Each prompt gets its own random stream derived from (seed, prompt id), so the result for a prompt does not
depend on which other prompts are in the file or their order. The output rows are ordinary prompt rows
with `instruction_id_list` + `kwargs`, so the shared verifiers score responses to them.
"""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Iterable, Sequence

from ..core.datafiles import iter_rows
from ..core.errors import InputError
from ..core.records import as_messages, make_prompt_row, stable_hash, user_text
from .augment_catalog import DEFAULT_EXCLUDED, TEMPLATES, conflicts

REPEAT = "combination:repeat_prompt"


def _check_options(min_constraints: int, max_constraints: int, allowed_ids: Sequence[str] | None) -> list[str]:
    from ..verifiers import VERIFIERS, VerifierError
    if not 1 <= min_constraints <= max_constraints:
        raise InputError(f"need 1 <= min ({min_constraints}) <= max ({max_constraints}) constraints per prompt")
    if allowed_ids is None:
        return sorted(set(TEMPLATES) - DEFAULT_EXCLUDED)
    pool = []
    for instruction_id in allowed_ids:
        if instruction_id not in VERIFIERS:
            try:
                VERIFIERS.get(instruction_id)
            except KeyError as e:
                raise VerifierError(f"allowed constraint types: {e}") from None
        if instruction_id not in TEMPLATES:
            raise InputError(f"constraint type {instruction_id!r} has no augmentation template")
        pool.append(instruction_id)
    return sorted(set(pool))


def choose_constraints(rng: random.Random, pool: Sequence[str], count: int,
                       existing: Sequence[str] = ()) -> list[str]:
    """Up to `count` instruction ids from `pool`, none conflicting with each other or with `existing`."""
    chosen: list[str] = []
    for candidate in rng.sample(list(pool), len(pool)):
        if len(chosen) == count:
            break
        if not any(conflicts(candidate, other) for other in [*existing, *chosen]):
            chosen.append(candidate)
    return chosen


def augment_row(row: dict, *, seed: int, min_constraints: int = 1, max_constraints: int = 3,
                pool: Sequence[str]) -> dict:
    """One prompt row with constraints added (existing constraints are kept and respected)."""
    rng = random.Random(stable_hash([seed, row["prompt_id"]]))
    messages = as_messages(row["prompt"])
    base_text = user_text(messages).rstrip()
    ids = list(row.get("instruction_id_list") or [])
    kwargs = [dict(k) for k in (row.get("kwargs") or [{} for _ in ids])]
    wanted = rng.randint(min_constraints, max_constraints)
    new_ids = choose_constraints(rng, pool, wanted, existing=ids)
    if len(new_ids) < min_constraints:
        raise InputError(f"prompt {row['prompt_id']}: only {len(new_ids)} compatible constraint types available, "
                         f"need {min_constraints}; allow more types or lower --min")
    new_ids.sort(key=lambda i: i == REPEAT)  # "repeat the request" must be the last sentence
    sentences, new_kwargs = [], []
    for instruction_id in new_ids:
        template = TEMPLATES[instruction_id]
        sampled = template.sample(rng, base_text)
        if instruction_id == REPEAT:
            # The request to repeat is everything said before this sentence.
            sampled = {"prompt_to_repeat": base_text + ("\n\n" + " ".join(sentences) if sentences else "")}
        sentences.append(template.phrase(sampled, rng))
        new_kwargs.append(sampled)
    text = base_text + "\n\n" + " ".join(sentences)
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user") if any(
        m["role"] == "user" for m in messages) else len(messages) - 1
    messages[last_user] = {**messages[last_user], "content": text}
    extra = {k: v for k, v in row.items() if k not in
             {"prompt_id", "prompt", "instruction_id_list", "kwargs", "category", "source"}}
    return make_prompt_row(messages, instruction_id_list=ids + new_ids, kwargs=kwargs + new_kwargs,
                           category=row.get("category", "") or "", source=row.get("source", "") or "",
                           base_prompt_id=row["prompt_id"], **extra)


def augment_prompts(rows: Iterable[dict], seed: int, min_constraints: int = 1, max_constraints: int = 3,
                    allowed_ids: Sequence[str] | None = None) -> list[dict]:
    """Augment prompt rows (see `make_prompt_row`) with 1–3 compatible verifiable constraints each.

    `allowed_ids` limits the constraint types (default: every type with a template except ones that only
    suit special prompts, e.g. yes/no answers). Same rows + seed → same output.
    """
    pool = _check_options(min_constraints, max_constraints, allowed_ids)
    return [augment_row(r, seed=seed, min_constraints=min_constraints, max_constraints=max_constraints, pool=pool)
            for r in rows]


def _as_prompt_fields(row: dict) -> dict:
    """Self-Instruct style rows (`instruction` + `instances`) become `prompt` rows; others pass through."""
    if "instruction" not in row or "prompt" in row:
        return row
    inputs = [i.get("input", "") for i in row.get("instances") or [] if isinstance(i, dict)]
    first = next((str(i).strip() for i in inputs if str(i).strip()), "")
    # The instruction alone may refer to its input ("the given pairs"), so the first input goes along.
    text = str(row["instruction"]).strip() + (f"\n\n{first}" if first else "")
    return {"prompt": text, "category": row.get("category") or row.get("name") or "",
            **({"base_id": str(row["id"])} if "id" in row else {})}


def load_instructions(path: str | os.PathLike) -> tuple[list[dict], list[dict]]:
    """Plain instructions as prompt rows, from a prompts file or a `datasets` folder (save_to_disk).

    Returns (rows, duplicates); a duplicate prompt keeps its first row and is reported, not lost silently.
    """
    path = Path(path)
    if path.is_dir() and ((path / "dataset_info.json").exists() or (path / "state.json").exists()):
        import datasets
        records: Iterable = enumerate(datasets.load_from_disk(str(path)), 1)
    else:
        records = iter_rows(path)
    rows, duplicates, seen = [], [], set()
    for line, raw in records:
        row = _as_prompt_fields(dict(raw))
        text = row.get("prompt")
        if not (isinstance(text, str) and text.strip()) and not isinstance(text, list):
            raise InputError("needs a non-empty prompt or instruction", path=str(path), line=line, field="prompt")
        if isinstance(text, list):
            from .prompts import check_chat_messages
            check_chat_messages(text, str(path), line)
        ids, kwargs = row.get("instruction_id_list") or [], row.get("kwargs")
        if kwargs is not None and (not isinstance(kwargs, list) or len(kwargs) != len(ids)):
            raise InputError(f"must be a list of {len(ids)} objects, one per instruction", path=str(path),
                             line=line, field="kwargs")
        extra = {k: v for k, v in row.items() if k not in {"prompt", "category", "source", "prompt_id"}
                 and isinstance(v, (str, int, float, bool))}
        prompt_row = make_prompt_row(text, instruction_id_list=row.get("instruction_id_list"),
                                     kwargs=row.get("kwargs"), category=str(row.get("category") or ""),
                                     source=str(row.get("source") or path.name), **extra)
        if prompt_row["prompt_id"] in seen:
            duplicates.append({"line": line, "drop_reason": "augment: duplicate of an earlier prompt"})
            continue
        seen.add(prompt_row["prompt_id"])
        rows.append(prompt_row)
    if not rows:
        raise InputError("no prompts found", path=str(path))
    return rows, duplicates
