"""Training inputs: find the dataset file, check its columns, fingerprint it, turn it into a TRL dataset.

Each method reads one row shape (TRL's own dataset formats, which `alignsmith pairs` writes directly):
sft `prompt`/`completion`, rm and dpo `prompt`/`chosen`/`rejected`, ppo and grpo `prompt`
(grpo with verifier rewards also `instruction_id_list` + `kwargs`, handed to TRL as JSON text in
`constraint_kwargs`). Provenance columns are dropped before
TRL sees the rows (TRL gives meaning to some names, e.g. the reward trainer uses a `margin` column).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.run_state import file_sha256, is_done

# Which file of an `alignsmith pairs` (or prompts) run folder each method reads, first found wins.
RUN_FOLDER_FILES = {
    "sft": ("sft.parquet",),
    "rm": ("dpo.parquet", "pairs.parquet"),
    "dpo": ("dpo.parquet", "pairs.parquet"),
    "ppo": ("prompts.parquet", "sft.parquet", "dpo.parquet"),
    "grpo": ("prompts.parquet",),
}
REQUIRED_COLUMNS = {
    "sft": ("prompt", "completion"),
    "rm": ("prompt", "chosen", "rejected"),
    "dpo": ("prompt", "chosen", "rejected"),
    "ppo": ("prompt",),
    "grpo": ("prompt",),
}
VERIFIER_COLUMNS = ("instruction_id_list", "kwargs")
CARD_NAMES = ("card.md", "README.md", "dataset_card.md")  # `alignsmith pairs` writes card.md


@dataclass
class DatasetInfo:
    """Where the rows came from: file, content fingerprint, dataset card (if any), row count."""

    path: str
    fingerprint: str
    card: str | None
    rows: int

    def to_dict(self) -> dict:
        """Plain dict for the lineage file."""
        return dict(self.__dict__)


def find_dataset_file(dataset: str | None, method: str) -> Path:
    """The file to read: the path itself, or the method's file inside a run folder."""
    if not dataset:
        raise InputError(f"no dataset given; pass --dataset (a run folder or a Parquet/JSONL file for {method})")
    path = Path(dataset)
    if path.is_dir():
        if (path / "config.yaml").exists() and not is_done(path):
            raise InputError("run folder is unfinished (no DONE file); finish or re-run that stage first",
                             path=str(path))
        for name in RUN_FOLDER_FILES[method]:
            if (path / name).exists():
                return path / name
        found = sorted(p.name for p in path.iterdir() if p.suffix in (".parquet", ".jsonl"))
        raise InputError(f"run folder has none of {', '.join(RUN_FOLDER_FILES[method])} (needed for {method}); "
                         f"found: {', '.join(found) or 'no data files'}", path=str(path))
    if not path.exists():
        raise InputError("dataset file does not exist", path=str(path))
    return path


def fingerprint(path: Path) -> str:
    """sha256 of the file's bytes (first 16 hex digits): same data, same fingerprint."""
    return "sha256:" + file_sha256(path)[:16]


def find_card(path: Path) -> str | None:
    """A dataset card next to the data file, if the producing stage wrote one."""
    for name in CARD_NAMES:
        if (path.parent / name).exists():
            return str(path.parent / name)
    return None


def load_training_rows(dataset: str | None, method: str, *, max_rows: int | None = None,
                       need_verifier_columns: bool = False) -> tuple[list[dict], DatasetInfo]:
    """Read and check the rows for `method`; keep only the columns TRL should see."""
    from alignsmith.curate.core.datafiles import iter_rows
    path = find_dataset_file(dataset, method)
    numbered = list(iter_rows(path))
    lines, rows = [n for n, _ in numbered], [r for _, r in numbered]
    if not rows:
        raise InputError("dataset has no rows", path=str(path))
    required = REQUIRED_COLUMNS[method] + (VERIFIER_COLUMNS if need_verifier_columns else ())
    found = list(rows[0].keys())
    missing = [c for c in required if c not in found]
    if missing:
        raise InputError(f"{method} needs columns {', '.join(required)}; missing {', '.join(missing)}; "
                         f"found {', '.join(found)}", path=str(path))
    info = DatasetInfo(str(path), fingerprint(path), find_card(path), len(rows))
    rows = rows[:max_rows] if max_rows else rows
    return [_trl_row(row, required, path, n) for n, row in zip(lines, rows)], info


def _trl_row(row: dict, columns: tuple[str, ...], path: Path, line: int) -> dict:
    from alignsmith.curate.core.records import as_messages
    out = {}
    for col in columns:
        value = row.get(col)
        if value is None and col not in ("kwargs", "instruction_id_list"):
            raise InputError("missing or null (every row needs it)", path=str(path), line=line, field=col)
        if col == "prompt":
            try:
                value = as_messages(value)
            except (KeyError, TypeError, ValueError) as e:
                raise InputError(f"not a prompt (text or chat messages): {e}", path=str(path), line=line,
                                 field=col) from None
        elif col in ("chosen", "rejected", "completion"):
            value = _assistant_turns(value, col, path, line)
        elif col == "kwargs":
            # JSON text: Arrow would otherwise merge every constraint's kwargs into one struct of nulls.
            from alignsmith.curate.core.records import clean_kwargs
            value = json.dumps([clean_kwargs(k) for k in (value or [])])
            col = "constraint_kwargs"  # TRL passes columns to reward functions by name; avoid `kwargs`
        elif col == "instruction_id_list":
            value = list(value or [])
        out[col] = value
    return out


def _assistant_turns(value, col: str, path: Path, line: int) -> list[dict]:
    """A completion as assistant messages (plain strings are wrapped), so all rows share one format."""
    if isinstance(value, str):
        return [{"role": "assistant", "content": value}]
    if isinstance(value, (list, tuple)) and value and all(isinstance(m, dict) and "content" in m for m in value):
        return [{"role": str(m.get("role", "assistant")), "content": str(m["content"])} for m in value]
    raise InputError(f"expected a string or a list of {{role, content}} messages, found {type(value).__name__}",
                     path=str(path), line=line, field=col)


def to_dataset(rows: list[dict]):
    """A `datasets.Dataset` from plain rows."""
    from datasets import Dataset
    return Dataset.from_list(rows)
