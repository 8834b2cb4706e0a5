"""The verifier base class, its registry and the error for bad verifier input.

A verifier answers one question about one response ("does it avoid commas?") for one IFEval
instruction id, given that instruction's kwargs. Kwargs are validated when the verifier is built, so a
wrong type or an unknown name is an error naming the instruction, never a silent pass or fail.
"""
from __future__ import annotations

from typing import Any, ClassVar

from ..core.errors import InputError
from ..core.registry import Registry

# The comparison words IFEval uses in its numeric kwargs.
LESS_THAN, AT_LEAST = "less than", "at least"
RELATIONS = (LESS_THAN, AT_LEAST)


class VerifierError(InputError):
    """Bad verifier input: unknown instruction id, wrong kwargs, or a response that is not a string."""


class Verifier:
    """One IFEval instruction check. Subclasses set `instruction_id`, `kwarg_types` and `check`.

    `kwarg_types` maps each kwarg name to int, str or list (a list of strings); all are required unless
    listed in `optional_kwargs`. `kwarg_choices` restricts a string kwarg to fixed values.
    """

    instruction_id: ClassVar[str]
    kwarg_types: ClassVar[dict[str, type]] = {}
    kwarg_choices: ClassVar[dict[str, tuple[str, ...]]] = {}
    optional_kwargs: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **kwargs: Any):
        self.kwargs = kwargs

    def check(self, response: str) -> bool:
        """True when `response` follows the instruction."""
        raise NotImplementedError


VERIFIERS: Registry[type[Verifier]] = Registry("verifier")


def register(cls: type[Verifier]) -> type[Verifier]:
    """Class decorator: register a verifier under its `instruction_id`."""
    return VERIFIERS.register(cls.instruction_id)(cls)


def compare(actual: int, relation: str, threshold: int) -> bool:
    """IFEval's relations: 'less than' is actual < N, 'at least' is actual >= N."""
    return actual < threshold if relation == LESS_THAN else actual >= threshold


def _where(key: Any, instruction_id: str, kwarg: str | None = None) -> str:
    prompt = f"prompt {key!r}, " if key not in (None, "") else ""
    return f"{prompt}instruction {instruction_id!r}" + (f", kwarg {kwarg!r}" if kwarg else "")


def _coerce(value: Any, kind: type, where: str) -> Any:
    """Check one kwarg's type; integral floats become ints (JSON/Arrow sometimes widen ints)."""
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is str and isinstance(value, str):
        return value
    elif kind is list:
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        if hasattr(value, "tolist"):  # numpy arrays from pandas/Arrow
            return _coerce(value.tolist(), list, where)
    expected = "a list of strings" if kind is list else kind.__name__
    raise VerifierError(f"{where}: expected {expected}, got {type(value).__name__} {value!r}")


def build_verifier(instruction_id: Any, kwargs: dict | None, *, prompt: str = "",
                   key: Any = None) -> Verifier:
    """Validate `kwargs` for `instruction_id` and return the ready verifier (VerifierError if invalid).

    None-valued kwargs are ignored (Arrow fills absent struct fields with None). `prompt` fills
    `prompt_to_repeat` when a repeat-the-prompt instruction has none.
    """
    if not isinstance(instruction_id, str) or instruction_id not in VERIFIERS:
        if isinstance(instruction_id, str):
            try:
                VERIFIERS.get(instruction_id)
            except KeyError as e:
                raise VerifierError(f"{_where(key, instruction_id)}: {e}") from None
        raise VerifierError(f"{_where(key, str(instruction_id))}: instruction id must be a string")
    cls = VERIFIERS.get(instruction_id)
    if kwargs is not None and not isinstance(kwargs, dict):
        raise VerifierError(f"{_where(key, instruction_id)}: kwargs must be an object, got "
                            f"{type(kwargs).__name__}")
    given = {k: v for k, v in (kwargs or {}).items() if v is not None}
    if "prompt_to_repeat" in cls.kwarg_types and "prompt_to_repeat" not in given and prompt:
        given["prompt_to_repeat"] = prompt
    unknown = sorted(set(given) - set(cls.kwarg_types))
    if unknown:
        raise VerifierError(f"{_where(key, instruction_id)}: unknown kwarg(s) {unknown}; "
                            f"accepted: {sorted(cls.kwarg_types) or 'none'}")
    missing = sorted(set(cls.kwarg_types) - set(given) - cls.optional_kwargs)
    if missing:
        raise VerifierError(f"{_where(key, instruction_id)}: missing kwarg(s) {missing}")
    clean = {}
    for name, value in given.items():
        where = _where(key, instruction_id, name)
        clean[name] = _coerce(value, cls.kwarg_types[name], where)
        choices = cls.kwarg_choices.get(name)
        if choices and clean[name] not in choices:
            raise VerifierError(f"{where}: must be one of {list(choices)}, got {clean[name]!r}")
    try:
        return cls(**clean)
    except ValueError as e:  # a verifier's own range checks (e.g. a one-character letter)
        raise VerifierError(f"{_where(key, instruction_id)}: {e}") from None
