"""The verifiers as curation parts: the "verifiers" scorer and the "constraints" filter.

Both take candidate rows joined with their prompt row (`prompt`, `instruction_id_list`, `kwargs`,
`response`).
"""
from __future__ import annotations

from typing import Any, ClassVar

from ..verifiers.api import MODES, constraint_report
from ..verifiers.base import VERIFIERS, VerifierError
from .base import FILTERS, Filter
from .scoring import SCORERS, Scorer


def _mode(options: dict[str, Any]) -> str:
    mode = options.get("mode", "strict")
    if mode not in MODES:
        raise VerifierError(f"mode must be 'strict' or 'loose', got {mode!r}")
    return mode


@SCORERS.register("verifiers")
class VerifierScorer(Scorer):
    """Fraction of the prompt's constraints the response meets; also sets `verdicts[id]` on each row.

    Options: mode ("strict" | "loose", default strict).
    """

    name = "verifiers"
    OPTIONS: ClassVar[dict] = {"mode": str}  # read from **options; checked by config.check_call_options

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.mode = _mode(options)

    def score_batch(self, rows: list[dict]) -> list[float]:
        """Score every row; verdicts are merged into the row's existing `verdicts`."""
        values = []
        for row in rows:
            report = constraint_report(row, row.get("response"), mode=self.mode)
            row["verdicts"] = {**(row.get("verdicts") or {}), **report["verdicts"]}
            values.append(report["constraints_met"])
        return values


@FILTERS.register("constraints")
class ConstraintFilter(Filter):
    """Drop a candidate that fails a required constraint of its prompt.

    Options: require (instruction ids that must pass when the prompt has them; empty = all of the
    prompt's constraints), mode ("strict" | "loose").
    """

    name = "constraints"
    OPTIONS: ClassVar[dict] = {"mode": str, "require": list[str] | str | None}

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.mode = _mode(options)
        require = options.get("require") or []
        if isinstance(require, str):
            require = [require]
        for instruction_id in require:
            if instruction_id not in VERIFIERS:
                _unknown(instruction_id)
        self.require = set(require)

    def reject(self, row: dict) -> str | None:
        """The failed constraints, or None when every required one passes."""
        verdicts = constraint_report(row, row.get("response"), mode=self.mode)["verdicts"]
        failed = [i for i, ok in verdicts.items() if not ok and (not self.require or i in self.require)]
        return f"failed {', '.join(failed)} ({self.mode})" if failed else None


def _unknown(instruction_id: str) -> None:
    try:
        VERIFIERS.get(instruction_id)
    except KeyError as e:
        raise VerifierError(f"filter 'constraints', option 'require': {e}") from None
