"""Pairwise judge annotations made elsewhere, read into one preference table for win rates.

Formats:
- `alpaca_eval`: AlpacaEval's `annotations.json` (a JSON list, gzipped or not): `instruction`, `output_1`
  (baseline, `generator_1`), `output_2` (the model, `generator_2`), `preference` in [1, 2] (2 = the model
  preferred; AlpacaEval writes 0 for a draw, read as 1.5).
- `jsonl`: one annotation per line (gzipped or not), either with the answers as above or in the compact form
  with `len_1` / `len_2` (characters) and `index` (the instruction's position) instead of the texts.
- `eval_run`: an alignsmith eval run folder with `winrate` items (`win`, `length`, `reference_length`).
`auto` picks by the path: a folder is an eval run, `*.json[.gz]` alpaca_eval, `*.jsonl[.gz]` jsonl.

Rows without a preference are excluded and recorded (AlpacaEval drops them too); a preference outside
[1, 2], a missing length, several baselines in one file, or an unknown format stop with an error that names
the file, line and field.
"""
from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import stable_hash

FORMATS = ("auto", "alpaca_eval", "jsonl", "eval_run")


@dataclass
class Annotations:
    """The preference table (model, baseline, instruction, preference in [0, 1], lengths) and exclusions."""

    table: pd.DataFrame
    excluded: list[dict] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def baseline(self) -> str:
        """The one baseline every annotation was judged against."""
        return str(self.table["baseline"].iloc[0])


def detect_format(path: Path) -> str:
    """The format `auto` means for this path."""
    name = path.name.lower().removesuffix(".gz")
    if path.is_dir():
        return "eval_run"
    if name.endswith(".json"):
        return "alpaca_eval"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise InputError("cannot tell the annotation format from the name; pass --format alpaca_eval|jsonl|eval_run",
                     path=str(path))


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def _alpaca_rows(path: Path):
    try:
        with _open_text(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise InputError(f"malformed JSON: {e.msg}", path=str(path), line=e.lineno) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read as (gzipped) UTF-8 JSON: {e}", path=str(path)) from None
    if not isinstance(data, list):
        raise InputError("an AlpacaEval annotations file is a JSON list of objects", path=str(path))
    for i, row in enumerate(data, 1):
        if not isinstance(row, dict):
            raise InputError(f"item is {type(row).__name__}, expected an object", path=str(path), line=i)
        yield i, row


def _jsonl_rows(path: Path):
    from alignsmith.curate.core.datafiles import iter_jsonl
    return iter_jsonl(path)


def _preference(value, path: Path, line: int) -> float | None:
    """The model's preference in [0, 1] (None when missing); outside AlpacaEval's [1, 2] is an error."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        pref = float(value)
    except (TypeError, ValueError):
        raise InputError(f"preference {value!r} is not a number", path=str(path), line=line,
                         field="preference") from None
    if math.isnan(pref):
        return None
    if pref == 0.0:
        pref = 1.5  # AlpacaEval's code for a draw
    if not 1.0 <= pref <= 2.0:
        raise InputError(f"preference {pref} is outside [1, 2] (1 = baseline output_1 preferred, 2 = output_2)",
                         path=str(path), line=line, field="preference")
    return pref - 1.0


def _length(row: dict, text_key: str, len_key: str, path: Path, line: int) -> float:
    if isinstance(row.get(text_key), str):
        return float(len(row[text_key]))
    if isinstance(row.get(len_key), (int, float)) and not isinstance(row.get(len_key), bool):
        return float(row[len_key])
    raise InputError(f"needs the answer text {text_key!r} or its length {len_key!r}", path=str(path),
                     line=line, field=text_key)


def _instruction_key(row: dict, position: int) -> str:
    """Instructions join across models by text (hashed) or, in the compact form, by their position."""
    if isinstance(row.get("instruction"), str):
        return "text:" + stable_hash(row["instruction"], length=16)
    if row.get("index") is not None:
        return f"index:{int(row['index'])}"
    return f"index:{position - 1}"


def _annotation_rows(path: Path, rows) -> tuple[list[dict], list[dict]]:
    kept, excluded = [], []
    seen: dict[str, int] = {}
    for line, row in rows:
        model, base = row.get("generator_2"), row.get("generator_1")
        for key, value in (("generator_2", model), ("generator_1", base)):
            if not isinstance(value, str) or not value:
                raise InputError("missing model name", path=str(path), line=line, field=key)
        # The row's place among this model's rows in the file, counting rows without a preference too:
        # AlpacaEval looks instruction difficulty up by it (see lc_settings.row_order_difficulty).
        position = seen.get(model, 0)
        seen[model] = position + 1
        pref = _preference(row.get("preference"), path, line)
        if pref is None:
            excluded.append({"source": str(path), "line": line, "model": model,
                             "reason": "no preference (judge gave none)"})
            continue
        kept.append({"model": model, "baseline": base, "instruction": _instruction_key(row, line),
                     "preference": pref, "len_model": _length(row, "output_2", "len_2", path, line),
                     "len_baseline": _length(row, "output_1", "len_1", path, line), "source": str(path),
                     "position": position})
    return kept, excluded


def _eval_run_rows(path: Path) -> tuple[list[dict], list[dict]]:
    from .results import load_eval_run
    run = load_eval_run(path)
    items = run.items
    if items.empty or "win" not in items or not (items["task"] == "winrate").any():
        raise InputError("the eval run has no winrate items", path=str(path))
    info = (run.config.get("tasks") or {}).get("winrate") or {}
    reference = str((info.get("options") or {}).get("reference") or "reference")
    model = run.name
    kept, excluded = [], []
    for i, r in enumerate(items[items["task"] == "winrate"].to_dict("records"), 1):
        win = r.get("win")
        if win is None or (isinstance(win, float) and math.isnan(win)):
            excluded.append({"source": str(path), "line": i, "model": model, "reason": "no verdict (judge failed)"})
            continue
        kept.append({"model": model, "baseline": f"reference:{Path(reference).name}",
                     "instruction": f"prompt:{r['prompt_id']}", "preference": float(win),
                     "len_model": float(r["length"]), "len_baseline": float(r["reference_length"]),
                     "source": str(path), "position": i - 1})
    return kept, excluded


def read_annotations(paths: list[str], fmt: str = "auto") -> Annotations:
    """Every annotation of every file in one table; one baseline across all of them, or InputError."""
    if fmt not in FORMATS:
        raise InputError(f"unknown annotation format {fmt!r}; use one of {', '.join(FORMATS)}")
    rows, excluded = [], []
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise InputError("file does not exist", path=str(path))
        kind = detect_format(path) if fmt == "auto" else fmt
        if kind == "eval_run":
            kept, dropped = _eval_run_rows(path)
        else:
            reader = _alpaca_rows if kind == "alpaca_eval" else _jsonl_rows
            kept, dropped = _annotation_rows(path, reader(path))
        baselines = sorted({r["baseline"] for r in kept})
        if len(baselines) > 1:
            raise InputError(f"several baselines in one file ({', '.join(baselines)}): win rates need one; "
                             "split the file by generator_1", path=str(path), field="generator_1")
        rows += kept
        excluded += dropped
    if not rows:
        raise InputError(f"no usable annotations in {', '.join(paths)}")
    baselines = sorted({r["baseline"] for r in rows})
    if len(baselines) > 1:
        raise InputError(f"the files use different baselines ({', '.join(baselines)}): give files judged "
                         "against one baseline")
    table = pd.DataFrame(rows)
    warnings = [f"{model} appears in several files ({', '.join(sorted(set(src)))}): all their annotations are "
                "counted, so give each model once" for model, src in table.groupby("model")["source"]
                if src.nunique() > 1]
    return Annotations(table, excluded, list(paths), warnings)
