"""verify(): IFEval verdicts for one response, in strict or loose mode; constraint_report() for a prompt row."""
from __future__ import annotations

from typing import Any, Sequence

from ..core.records import prompt_text
from .base import VerifierError, build_verifier

MODES = ("strict", "loose")


def loose_variants(response: str) -> list[str]:
    """The eight texts IFEval's loose mode tries: as is, without its first line, last line or both,
    each also with every '*' removed (forgives a preamble, a sign-off, or markdown emphasis)."""
    lines = response.split("\n")
    trimmed = ["\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return [response, response.replace("*", ""), *trimmed, *(t.replace("*", "") for t in trimmed)]


def verify(instruction_id_list: Sequence[str], kwargs_list: Sequence[dict | None] | None, response: Any, *,
           prompt: str = "", mode: str = "strict", key: Any = None) -> list[bool]:
    """One verdict per instruction: does `response` follow it? (IFEval semantics.)

    `mode` is "strict" (the response as is) or "loose" (passes if any loose variant passes). An empty or
    blank response fails every instruction. kwargs values of None are ignored. `key` (the prompt's id)
    only makes error messages name the prompt. Raises VerifierError for an unknown instruction id, bad
    kwargs, or a response that is not a string.
    """
    where = f"prompt {key!r}: " if key not in (None, "") else ""
    if mode not in MODES:
        raise VerifierError(f"{where}mode must be 'strict' or 'loose', got {mode!r}")
    if isinstance(instruction_id_list, (str, bytes, dict)) or not hasattr(instruction_id_list, "__iter__"):
        raise VerifierError(f"{where}instruction_id_list must be a list of instruction ids, "
                            f"got {type(instruction_id_list).__name__}")
    ids = list(instruction_id_list)
    kwargs_list = [None] * len(ids) if kwargs_list is None else list(kwargs_list)
    if len(kwargs_list) != len(ids):
        raise VerifierError(f"{where}{len(ids)} instruction ids but {len(kwargs_list)} kwargs entries")
    verifiers = [build_verifier(i, k, prompt=prompt, key=key) for i, k in zip(ids, kwargs_list)]
    if not isinstance(response, str):
        named = ", ".join(repr(i) for i in ids) or "no instructions"
        raise VerifierError(f"{where}response for {named} must be a string, got {type(response).__name__}")
    texts = [response] if mode == "strict" else loose_variants(response)
    texts = [t for t in texts if t.strip()]  # IFEval never credits an empty (variant of a) response
    return [any(v.check(t) for t in texts) for v in verifiers]


def constraint_report(prompt_row: dict, response: Any, mode: str = "strict") -> dict:
    """Verdicts for a prompt row's constraints on `response`, and the fraction met.

    Returns {"verdicts": {instruction_id: bool}, "constraints_met": float}. A row without constraints
    has nothing to violate: empty verdicts and constraints_met 1.0. An id listed twice passes only if
    every instance passes.
    """
    ids = list(prompt_row.get("instruction_id_list") or [])
    kwargs = prompt_row.get("kwargs")
    text_of_prompt = prompt_text(prompt_row.get("prompt"))
    key = prompt_row.get("key", prompt_row.get("prompt_id"))
    results = verify(ids, None if kwargs is None else list(kwargs), response, prompt=text_of_prompt,
                     mode=mode, key=key)
    verdicts: dict[str, bool] = {}
    for instruction_id, ok in zip(ids, results):
        verdicts[instruction_id] = verdicts.get(instruction_id, True) and ok
    met = sum(results) / len(results) if results else 1.0
    return {"verdicts": verdicts, "constraints_met": met}
