"""The baseline's own length variants: the rows that keep the length-controlled fit honest (AlpacaEval's
`df_gamed`).

AlpacaEval-LC adds to every model's fit the judge's verdicts on the *baseline itself* prompted to answer
concisely and verbosely, against the plain baseline, with no model bias term: the quality is the same, so only
the length term may explain them, which pins the length slope to the judge's reaction to length alone. The
table has one row per (variant, instruction):

    model            the variant (e.g. gpt4_1106_preview_concise)
    index            the instruction's position in the evaluation set (0-based)
    std_delta_len    (baseline length - variant length) / its standard deviation over the variant's rows
    preference       the judge's preference for the variant in [0, 1]; may be empty when the three
    glm_length, glm_difficulty, glm_bias  (the variant's published GLM coefficients) are given instead: the
                     preference is then the GLM's expected verdict, filled in once difficulties are known

Where it comes from:
- upstream's `df_gamed.csv` (its Hugging Face dataset; columns model, index, preference, std_delta_len, ...)
  read as is;
- or built here from an alpaca_eval checkout (`build_from_alpaca_eval`): the lengths from
  `results/<baseline>{,_concise,_verbose}/model_outputs.json`; the verdicts from the variants'
  `annotations.json` where present, else their published GLM weights
  (`src/alpaca_eval/metrics/weights/<annotator>/length_controlled_v1/baseline_<baseline>.csv`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from alignsmith.curate.core.errors import InputError

GLM_COLUMNS = ("glm_length", "glm_difficulty", "glm_bias")
ANNOTATOR = "weighted_alpaca_eval_gpt4_turbo"
_WEIGHT_NAMES = {"np.tanh(std_delta_len)": "glm_length", "instruction_difficulty": "glm_difficulty",
                 "not_gamed_baseline.astype(float)": "glm_bias"}


def read_length_reference(path: str | Path, *, baseline: str, annotator: str = ANNOTATOR) -> pd.DataFrame:
    """The reference rows from a CSV (upstream's df_gamed format) or an alpaca_eval checkout (a folder)."""
    path = Path(path)
    if not path.exists():
        raise InputError("length reference not found", path=str(path))
    return build_from_alpaca_eval(path, baseline, annotator) if path.is_dir() else _read_csv(path)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise InputError(f"unreadable CSV: {e}", path=str(path)) from None
    for col in ("model", "index", "std_delta_len"):
        if col not in raw:
            raise InputError("the length reference lacks a column", path=str(path), field=col)
    has_glm = all(c in raw for c in GLM_COLUMNS)
    if "preference" not in raw and not has_glm:
        raise InputError("the length reference needs `preference` or the GLM coefficients "
                         f"{', '.join(GLM_COLUMNS)}", path=str(path), field="preference")
    out = pd.DataFrame({"model": raw["model"].astype(str), "index": raw["index"],
                        "std_delta_len": raw["std_delta_len"],
                        "preference": raw["preference"] if "preference" in raw else np.nan})
    for c in GLM_COLUMNS:
        out[c] = raw[c] if has_glm else np.nan
    for i, row in enumerate(out.itertuples(index=False), start=2):  # line 1 is the header
        if not isinstance(row.index, (int, np.integer)) and not (isinstance(row.index, float) and row.index.is_integer()):
            raise InputError("index must be an integer position", path=str(path), line=i, field="index")
        delta = _number(row.std_delta_len)
        if delta is None or math.isnan(delta):
            raise InputError("std_delta_len must be a number", path=str(path), line=i, field="std_delta_len")
        pref = _number(row.preference)
        if pref is None:
            raise InputError("preference must be a number", path=str(path), line=i, field="preference")
        if math.isnan(pref):
            if not has_glm or any(_number(getattr(row, c)) is None or math.isnan(_number(getattr(row, c)))
                                  for c in GLM_COLUMNS):
                raise InputError("no preference and no GLM coefficients to fill it in", path=str(path), line=i,
                                 field="preference")
        elif not 0.0 <= pref <= 1.0:
            raise InputError(f"preference {pref} outside [0, 1]", path=str(path), line=i, field="preference")
    out["index"] = out["index"].astype(int)
    for c in ("std_delta_len", "preference", *GLM_COLUMNS):
        out[c] = out[c].astype(float)
    return out


def _number(value) -> float | None:
    """The value as a float (NaN for an empty cell), or None when it is not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isinf(number) else number


def _outputs(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read model outputs: {e}", path=str(path)) from None
    if not isinstance(data, list) or not all(isinstance(r, dict) and isinstance(r.get("output"), str) for r in data):
        raise InputError("model outputs must be a JSON list of objects with `output`", path=str(path))
    return data


def _annotations(path: Path) -> list[dict] | None:
    """A variant's own annotations, or None when absent or not real JSON (e.g. a Git LFS pointer)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, list) else None


def build_from_alpaca_eval(root: Path, baseline: str, annotator: str = ANNOTATOR) -> pd.DataFrame:
    """Reference rows for `baseline`'s concise/verbose variants from an alpaca_eval checkout."""
    results = root / "results"
    base_file = results / baseline / "model_outputs.json"
    if not base_file.is_file():
        raise InputError(f"no outputs of the baseline {baseline!r} in this alpaca_eval checkout", path=str(base_file))
    base = _outputs(base_file)
    weights_file = (root / "src" / "alpaca_eval" / "metrics" / "weights" / annotator / "length_controlled_v1"
                    / f"baseline_{baseline}.csv")
    weights = pd.read_csv(weights_file, index_col=0) if weights_file.is_file() else None
    frames = []
    for suffix in ("concise", "verbose"):
        variant = f"{baseline}_{suffix}"
        out_file = results / variant / "model_outputs.json"
        if not out_file.is_file():
            continue
        outputs = _outputs(out_file)
        if len(outputs) != len(base) or any(a.get("instruction") != b.get("instruction") for a, b in zip(outputs, base)):
            raise InputError(f"{variant}'s outputs do not follow the baseline's instructions one to one",
                             path=str(out_file), field="instruction")
        delta = np.array([len(b["output"]) - len(a["output"]) for a, b in zip(outputs, base)], float)
        frame = pd.DataFrame({"model": variant, "index": np.arange(len(base)),
                              "std_delta_len": delta / delta.std(ddof=1), "preference": np.nan})
        for c in GLM_COLUMNS:
            frame[c] = np.nan
        judged = _annotations(results / variant / annotator / "annotations.json")
        if judged is not None and len(judged) == len(base):
            prefs = [r.get("preference") for r in judged]
            frame["preference"] = [np.nan if p is None else (0.5 if float(p) == 0.0 else float(p) - 1.0) for p in prefs]
        if frame["preference"].isna().any():
            if weights is None or variant not in weights.index:
                raise InputError(f"{variant}: neither its annotations nor its published GLM weights are in this "
                                 "checkout", path=str(weights_file))
            for name, col in _WEIGHT_NAMES.items():
                frame[col] = float(weights.loc[variant, name])
        frames.append(frame)
    if not frames:
        raise InputError(f"no concise/verbose variants of {baseline!r} in this alpaca_eval checkout",
                         path=str(results))
    return pd.concat(frames, ignore_index=True)


def resolve_preferences(reference: pd.DataFrame, difficulty_of_position: np.ndarray) -> pd.DataFrame:
    """Fill empty preferences with the variant GLM's expected verdict; add `tanh_len` and `difficulty`."""
    out = reference.copy()
    idx = out["index"].to_numpy(int)
    if (idx < 0).any() or (idx >= len(difficulty_of_position)).any():
        raise InputError(f"the length reference's index runs to {idx.max()}, but the annotations have "
                         f"{len(difficulty_of_position)} instructions", field="index")
    out["difficulty"] = difficulty_of_position[idx]
    out["tanh_len"] = np.tanh(out["std_delta_len"].to_numpy(float))
    missing = out["preference"].isna().to_numpy()
    if missing.any():
        z = (out["glm_length"] * out["tanh_len"] + out["glm_difficulty"] * out["difficulty"] + out["glm_bias"])
        out.loc[missing, "preference"] = (1.0 / (1.0 + np.exp(-z)))[missing]
    return out


def read_difficulty(path: str | Path) -> pd.Series:
    """An instruction-difficulty table: position (first column, `index`) → `instruction_difficulty`
    (upstream's instruction_difficulty.csv, or one written by `winrates --save-difficulty`)."""
    path = Path(path)
    try:
        raw = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise InputError(f"unreadable difficulty table: {e}", path=str(path)) from None
    if "instruction_difficulty" not in raw or len(raw.columns) < 2:
        raise InputError("the difficulty table needs an index column and `instruction_difficulty`",
                         path=str(path), field="instruction_difficulty")
    index, values = raw.iloc[:, 0], raw["instruction_difficulty"]
    for i, (k, v) in enumerate(zip(index, values), start=2):
        k, v = _number(k), _number(v)
        if k is None or v is None or not k.is_integer() or math.isnan(v):
            raise InputError("needs an integer position and a number", path=str(path), line=i,
                             field="instruction_difficulty")
    return pd.Series(values.to_numpy(float), index=index.astype(int).to_numpy(), name="instruction_difficulty")
