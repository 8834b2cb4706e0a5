"""Instruction-following tasks scored by the shared IFEval verifiers: `ifeval` and `constraints`.

Per item: `prompt_strict` / `prompt_loose` (1 when every instruction is followed) and `inst_strict` /
`inst_loose` (share of the item's instructions followed). The instruction-level metrics are weighted by
`n_instructions`, which makes them IFEval's instruction-level accuracy (followed / total instructions).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alignsmith.curate.core.datafiles import iter_rows
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import as_messages, clean_kwargs, prompt_id, user_text

from .tasks import TASKS, EvalItem, EvalSample, MetricSpec, Task, data_path

IFEVAL_DEFAULT = "ifeval/input_data.jsonl"

_IF_METRICS = (
    MetricSpec("prompt_strict", True, description="all instructions followed (strict)"),
    MetricSpec("prompt_loose", True, description="all instructions followed (loose)"),
    MetricSpec("inst_strict", True, weight="n_instructions", description="instructions followed (strict)"),
    MetricSpec("inst_loose", True, weight="n_instructions", description="instructions followed (loose)"),
)


def _verify(instruction_ids: list[str], kwargs: list[dict], response: str, prompt: str, mode: str) -> list[bool]:
    from alignsmith.curate.verifiers import verify  # the shared verifiers (curate)
    return list(verify(instruction_ids, kwargs, response, prompt=prompt, mode=mode))


class _VerifiedTask(Task):
    """Scores items that carry `instruction_id_list` + `kwargs` with the shared verifiers."""

    metrics = _IF_METRICS
    primary = "inst_loose"
    default_max_tokens = 512

    def score(self, sample: EvalSample) -> dict[str, float | None]:
        ids = list(sample.item.info["instruction_id_list"])
        kwargs = [clean_kwargs(k) for k in sample.item.info["kwargs"]]
        text = user_text(sample.item.prompt)
        strict = _verify(ids, kwargs, sample.response, text, "strict")
        loose = _verify(ids, kwargs, sample.response, text, "loose")
        n = len(ids)
        return {"prompt_strict": float(all(strict)), "prompt_loose": float(all(loose)),
                "inst_strict": sum(strict) / n if n else None, "inst_loose": sum(loose) / n if n else None,
                "n_instructions": float(n)}


def _verified_item(item_id: str, prompt: Any, ids: Any, kwargs: Any, where: str, subset: str = "") -> EvalItem:
    if not isinstance(ids, list) or not ids:
        raise InputError(f"{where}: needs a non-empty instruction_id_list", field="instruction_id_list")
    kwargs = list(kwargs) if kwargs is not None else [{} for _ in ids]
    if len(kwargs) != len(ids):
        raise InputError(f"{where}: {len(ids)} instructions but {len(kwargs)} kwargs", field="kwargs")
    return EvalItem(item_id, as_messages(prompt), {"instruction_id_list": ids, "kwargs": kwargs}, subset)


@TASKS.register("ifeval")
class IFEvalTask(_VerifiedTask):
    """IFEval (541 prompts) from a local input_data.jsonl: option `path` (default under $ALIGNSMITH_DATA)."""

    name = "ifeval"
    version = "1"
    OPTIONS = {"path": str | Path, "split": str}  # checked by name and type in tasks.get_task

    def items(self) -> list[EvalItem]:
        source = self.options.get("path")
        if source and not Path(source).exists() and _HUB_ID.match(str(source)):
            rows, where = _hub_rows(str(source), self.options.get("split", "train")), str(source)
        else:
            path = data_path(source, IFEVAL_DEFAULT, "IFEval input data")
            rows, where = iter_rows(path), str(path)
        items = []
        for line, row in rows:
            if "prompt" not in row:
                raise InputError("missing field", path=where, line=line, field="prompt")
            key = row.get("key", line)
            items.append(_verified_item(str(key), row["prompt"], row.get("instruction_id_list"),
                                        row.get("kwargs"), f"{where}:{line}"))
        return items


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _hub_rows(name: str, split: str) -> list[tuple[int, dict]]:
    """Rows of a hub dataset (e.g. google/IFEval) through `datasets`; offline machines get a clear error."""
    try:
        from datasets import load_dataset
        dataset = load_dataset(name, split=split)
    except Exception as e:  # datasets raises many types for offline / unknown ids
        raise FileNotFoundError(
            f"{name!r} is not a local file and loading it as a hub dataset failed ({type(e).__name__}: {e}). "
            "Without network, download IFEval's input_data.jsonl and pass --set ifeval.path=FILE") from e
    return list(enumerate(dataset, 1))


@TASKS.register("constraints")
class ConstraintsTask(_VerifiedTask):
    """The built-in held-out prompts with verifiable constraints (`alignsmith.curate.generate.demo_prompts`)."""

    name = "constraints"
    version = "1"
    OPTIONS = {"prompts": str | Path, "split": str}

    def items(self) -> list[EvalItem]:
        if self.options.get("prompts"):
            # Option `prompts`: a file of prompt rows (with instruction_id_list + kwargs) instead of the demo set.
            path = str(self.options["prompts"])
            rows, where = list(iter_rows(path)), path
        else:
            from alignsmith.curate.generate.demo_prompts import load_demo_prompts
            split = self.options.get("split", "eval")
            rows, where = list(enumerate(load_demo_prompts(split=split), 1)), f"demo prompts ({split})"
        items = []
        for line, row in rows:
            if not row.get("instruction_id_list"):
                continue  # a prompt without constraints has nothing to verify
            if "prompt" not in row:
                raise InputError("missing field", path=where, line=line, field="prompt")
            pid = row.get("prompt_id") or prompt_id(as_messages(row["prompt"]))
            items.append(_verified_item(str(pid), row["prompt"], list(row["instruction_id_list"]),
                                        row.get("kwargs"), f"{where}:{line}", row.get("category") or ""))
        return items
