"""`alignsmith winrates`: raw and length-controlled win rates from pairwise annotations made elsewhere.

Reads annotations (evaluate.annotations), fits the AlpacaEval-LC GLM over every model given at once
(evaluate.lc_glm), writes one CSV row per model in percent as AlpacaEval prints them, and, optionally,
one eval run folder per model (task `winrate`, per-item `win`) that `leaderboard`, `compare` and the
dashboard read like any other eval run.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from alignsmith.curate.core.datafiles import atomic_write_bytes
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.runs import RunFolder, metric

from .annotations import Annotations, read_annotations
from .lc_glm import LCResult, LCSettings, lc_win_rates
from .stats import bootstrap_mean_ci

CSV_COLUMNS = ["generator", "n", "win_rate", "lc_win_rate", "lc_ci_low", "lc_ci_high"]
TASK_VERSION = "2"   # must match WinRateTask.version so annotation runs and eval runs line up


def results_frame(results: list[LCResult]) -> pd.DataFrame:
    """One row per model, percentages, best length-controlled win rate first."""
    frame = pd.DataFrame([{"generator": r.model, "n": r.n, "win_rate": 100 * r.win_rate,
                           "lc_win_rate": 100 * r.lc_win_rate, "lc_ci_low": 100 * r.lc_ci_low,
                           "lc_ci_high": 100 * r.lc_ci_high} for r in results], columns=CSV_COLUMNS)
    return frame.sort_values("lc_win_rate", ascending=False, kind="stable").reset_index(drop=True)


def _write_eval_run(ann: Annotations, result: LCResult, settings: LCSettings, root: Path | None) -> Path:
    """An eval run folder for one model: items with per-item `win`, metrics with raw and LC rates."""
    rows = ann.table[ann.table["model"] == result.model]
    config = {"model": {"model": result.model, "label": result.model, "model_path": None},
              "backend": None, "decoding": None, "limit": None,
              "annotations": {"files": [str(Path(p).resolve()) for p in ann.sources],
                              "baseline": ann.baseline, "n": int(len(rows))},
              "tasks": {"winrate": {"version": TASK_VERSION, "primary": "win", "max_tokens": None,
                                    "options": {"reference": ann.baseline, "judge": "external annotations",
                                                "lc_settings": settings.__dict__},
                                    "metrics": [{"name": "win", "higher_is_better": True, "weight": None}]}}}
    out = None if root is None else root / "eval" / f"annotations-{result.model}"
    run = RunFolder.open("eval", config, out)
    items = [{"task": "winrate", "task_version": TASK_VERSION, "item_id": r["instruction"],
              "prompt_id": r["instruction"], "subset": "", "prompt": "", "sample": k, "response": "",
              "finish_reason": None, "win": float(r["preference"]), "length": float(r["len_model"]),
              "reference_length": float(r["len_baseline"])}
             for k, r in enumerate(rows.to_dict("records"))]
    # Duplicate (model, instruction) annotations become samples of one item, so tests resample items.
    seen: dict[str, int] = {}
    for it in items:
        it["sample"] = seen.get(it["item_id"], 0)
        seen[it["item_id"]] = it["sample"] + 1
    run.write_rows("items", items)
    wins = rows["preference"].to_numpy(float)
    run.write_metrics({
        "winrate/win": metric(float(wins.mean()), higher_is_better=True, n=len(wins),
                              ci=bootstrap_mean_ci(wins, seed=settings.seed)),
        "winrate/lc_win_rate": metric(result.lc_win_rate, higher_is_better=True, n=result.n,
                                      ci=(result.lc_ci_low, result.lc_ci_high),
                                      note="AlpacaEval length-controlled GLM, fitted over all models given"),
    })
    run.mark_done()
    return run.path


def compute_winrates(paths: list[str], *, fmt: str = "auto", out: str | None = None,
                     runs_root: str | None = None, write_runs: bool = False,
                     settings: LCSettings = LCSettings(), length_reference: str | None = None,
                     difficulty: str | None = None, save_difficulty: str | None = None) -> dict:
    """Win rates for every model in the annotation files; writes the CSV (and eval runs) when asked.

    `length_reference`: the baseline's own concise/verbose judgements as the LC fit's length regulariser, as
    a CSV in upstream's df_gamed format or an alpaca_eval checkout (see evaluate/lc_reference.py).
    `difficulty`: a fixed instruction-difficulty CSV (position, instruction_difficulty) instead of the joint
    fit; `save_difficulty`: write the difficulties this fit used in that format.
    Returns {"table": DataFrame, "notes": fit notes and exclusions, "runs": written run folders}.
    """
    ann = read_annotations(paths, fmt)
    reference = None
    if length_reference:
        from .lc_reference import read_length_reference
        reference = read_length_reference(length_reference, baseline=ann.baseline)
    fixed_difficulty = None
    if difficulty:
        from .lc_reference import read_difficulty
        fixed_difficulty = read_difficulty(difficulty)
    results, notes = lc_win_rates(ann.table, baseline=ann.baseline, settings=settings, reference=reference,
                                  difficulty_by_position=fixed_difficulty)
    by_position = notes.pop("difficulty_by_position", None)
    if save_difficulty:
        if by_position is None:
            raise InputError("no instruction difficulties to save: they need two or more models and one judged "
                             "on every instruction in order", path=save_difficulty)
        buffer = io.StringIO()
        by_position.to_csv(buffer, float_format="%.10f")
        atomic_write_bytes(Path(save_difficulty), buffer.getvalue().encode("utf-8"))
    if difficulty:
        notes["difficulty_table"] = str(difficulty)
    if length_reference:
        notes["length_reference_source"] = str(length_reference)
    notes["baseline"] = ann.baseline
    notes["excluded_rows"] = ann.excluded
    notes["input_warnings"] = ann.warnings
    frame = results_frame(results)
    written: list[str] = []
    if out:
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, float_format="%.4f")
        atomic_write_bytes(Path(out), buffer.getvalue().encode("utf-8"))
        notes_path = Path(out).with_suffix(".notes.json")
        atomic_write_bytes(notes_path, json.dumps(notes, indent=2, default=str).encode("utf-8"))
    if write_runs:
        root = Path(runs_root) if runs_root else None
        written = [str(_write_eval_run(ann, r, settings, root)) for r in results]
    return {"table": frame, "notes": notes, "runs": written}
