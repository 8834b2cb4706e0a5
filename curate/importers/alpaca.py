"""Alpaca rows (`instruction`, `input`, `output`), AlpacaEval outputs and Self-Instruct seed tasks (`instances`)."""
from __future__ import annotations

from typing import Any

from ..generate.alpaca_template import JOIN_STYLES, join_instruction_input
from .base import Importer, Record, RowSkip, optional_text, require_text

# Plain provenance fields carried onto the rows when present (AlpacaEval: generator, dataset; seed tasks: id).
_META = ("id", "name", "generator", "dataset", "category")


class AlpacaImporter(Importer):
    """Instruction rows: the user turn is the instruction joined with `input`; `output` (if any) the reply.

    A Self-Instruct seed task holds several `instances` ({input, output}); each becomes its own record.
    Options: `alpaca_join` ("newline" or "template", see `alpaca_template`).
    """

    name = "alpaca"
    description = "instruction/input/output (Alpaca, AlpacaEval outputs, Self-Instruct seed tasks)"

    def __init__(self, alpaca_join: str = "newline", **options: Any):
        if alpaca_join not in JOIN_STYLES:
            raise ValueError(f"alpaca_join must be one of {', '.join(JOIN_STYLES)}, not {alpaca_join!r}")
        super().__init__(alpaca_join=alpaca_join, **options)
        self.join = alpaca_join

    @classmethod
    def signature(cls, row: dict) -> bool:
        return "instruction" in row and not isinstance(row.get("completions"), list)

    def convert(self, row: dict) -> list[Record]:
        instruction = require_text(row, "instruction")
        meta = {k: row[k] for k in _META if isinstance(row.get(k), (str, int, float, bool))}
        if "instances" in row:
            return self._instances(row, instruction, meta)
        return [self._record(instruction, optional_text(row, "input"), optional_text(row, "output"),
                             meta, "output" in row and row["output"] is not None)]

    def _instances(self, row: dict, instruction: str, meta: dict) -> list[Record]:
        instances = row["instances"]
        if not isinstance(instances, list) or not instances:
            raise RowSkip("must be a non-empty list of {input, output}", "instances")
        records = []
        for i, inst in enumerate(instances):
            if not isinstance(inst, dict):
                raise RowSkip(f"is {type(inst).__name__}, expected an object", f"instances[{i}]")
            try:
                records.append(self._record(instruction, optional_text(inst, "input"),
                                            optional_text(inst, "output"), {**meta, "instance": i},
                                            "output" in inst))
            except RowSkip as e:
                raise RowSkip(e.reason, f"instances[{i}].{e.field}") from None
        return records

    def _record(self, instruction: str, input_text: str, output: str, meta: dict, has_output: bool) -> Record:
        prompt = [{"role": "user", "content": join_instruction_input(instruction, input_text, self.join)}]
        meta = {**meta, "input_joined": bool(input_text.strip())}
        if has_output and not output.strip():
            raise RowSkip("is empty (a row with an output field needs a non-empty answer)", "output")
        completion = [{"role": "assistant", "content": output}] if has_output else None
        return Record(prompt=prompt, completion=completion, meta=meta)
