"""The curation pipeline: a YAML list of named filters and scorers applied in order, with a funnel.

    from alignsmith.curate.pipeline.run import curate_rows, load_config
    kept, dropped, report = curate_rows(rows, load_config("curate.yaml"))

A step is `{filter: NAME, option: value, ...}` or `{scorer: NAME, ...}` (a bare string is a filter).
Before the first step, rows whose text field is missing, not text, or over `max_chars` are quarantined by
the built-in `input` step, so no filter ever sees them and none is lost.
"""
from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from ..core.config import check_call_options
from ..core.errors import InputError
from ..core.funnel import funnel_entry, funnel_metrics
from ..core.quarantine import MAX_TEXT_CHARS, quarantined, require_field, text_problem
from ..core.registry import load_object
from ..steps.base import FILTERS, Filter, apply_one_filter
from ..steps.scoring import SCORERS, Scorer, apply_scorers

DEFAULT_CONFIG = "curate_default.yaml"
# How steps run, by name, imported on first use: a step never knows its executor, and this module never
# imports the Ray one (which builds on this module).
STEP_EXECUTORS = {"local": "alignsmith.curate.pipeline.run:run_steps_local",
                  "ray": "alignsmith.curate.pipeline.ray_executor:run_steps_ray"}


def default_config_path() -> str:
    """The packaged default config (empty, truncated, leakage, repetition)."""
    return str(resources.files(__package__) / DEFAULT_CONFIG)


def load_config(path: str | None = None) -> dict:
    """Read a curate YAML (a list of steps, or a mapping with `steps:`); None → the packaged default."""
    from ..core.config import check_known, read_yaml_file
    from ..core.errors import InputError
    path = path or default_config_path()
    data = read_yaml_file(path)
    config = {"steps": data} if isinstance(data, list) else dict(data or {}) if isinstance(data, dict) else {}
    check_known(config, ["steps"], "curate config", path=str(path))
    if not isinstance(config.get("steps"), list):
        raise InputError(f"expected a list of steps (or `steps:` holding one), got {type(data).__name__}",
                         path=str(path))
    config["steps"] = [normalise_step(s, path, i) for i, s in enumerate(config["steps"], 1)]
    for i, spec in enumerate(config["steps"], 1):  # names and option types checked here, naming the file
        check_step_options(spec, f"{path} step {i}")
    return config


def check_step_options(spec: dict, where: str) -> None:
    """Refuse an unknown part name or option (nearest name suggested) or a wrongly typed option value."""
    kind = "filter" if "filter" in spec else "scorer"
    registry = FILTERS if kind == "filter" else SCORERS
    try:
        cls = registry.get(spec[kind])
    except KeyError as e:
        raise InputError(str(e), path=where) from None
    check_call_options(cls, {k: v for k, v in spec.items() if k != kind}, f"{kind} {spec[kind]!r} option",
                       path=where)


def normalise_step(step: Any, where: str = "config", index: int = 0) -> dict:
    """`"empty"` or `{"name": "empty"}` → `{"filter": "empty"}`; checks there is exactly one of filter/scorer."""
    if isinstance(step, str):
        return {"filter": step}
    if isinstance(step, dict) and "name" in step and "filter" not in step and "scorer" not in step:
        step = {"filter": step["name"], **{k: v for k, v in step.items() if k != "name"}}
    if not isinstance(step, dict):
        raise ValueError(f"{where}: step {index} must be a name or a mapping, got {step!r}")
    kinds = [k for k in ("filter", "scorer") if k in step]
    if len(kinds) != 1:
        raise ValueError(f"{where}: step {index} needs exactly one of `filter:` or `scorer:`, got {step!r}")
    return dict(step)


def build_step(spec: dict) -> tuple[str, str, Filter | Scorer]:
    """(kind, name, part) for one step spec; unknown names raise with 'did you mean'."""
    spec = normalise_step(spec)
    kind = "filter" if "filter" in spec else "scorer"
    name = spec[kind]
    options = {k: v for k, v in spec.items() if k != kind}
    registry = FILTERS if kind == "filter" else SCORERS
    cls = registry.get(name)
    return kind, name, cls(**check_call_options(cls, options, f"{kind} {name!r} option"))


def step_specs(filter_specs: Sequence[dict | str] | dict | None) -> list[dict]:
    """The normalised step list of a list of steps, a loaded config mapping, or None (packaged default)."""
    config = filter_specs if isinstance(filter_specs, dict) else \
        {"steps": list(filter_specs)} if filter_specs is not None else load_config()
    return [normalise_step(s) for s in config["steps"]]


def curate_rows(rows: Sequence[dict], filter_specs: Sequence[dict | str] | dict | None = None, *,
                text_field: str = "response", max_chars: int = MAX_TEXT_CHARS,
                executor: str = "local") -> tuple[list[dict], list[dict], dict]:
    """Apply the steps in order; return (kept, dropped with `drop_reason`, report with the funnel).

    `filter_specs`: a list of steps, a loaded config mapping, or None for the packaged default.
    `executor`: "local" or "ray" (same results; Ray Data runs the per-row filters and MinHash banding).
    """
    require_field(list(rows), text_field)
    specs = step_specs(filter_specs)
    steps = [build_step(s) for s in specs]
    started = time.perf_counter()
    kept, dropped = [], []
    for r in rows:
        problem = text_problem(r, text_field, max_chars)
        (dropped.append(quarantined(r, problem)) if problem else kept.append(r))
    funnel = [funnel_entry("input", "check", len(rows), len(dropped), time.perf_counter() - started)]
    if executor not in STEP_EXECUTORS:
        raise ValueError(f"executor must be 'local' or 'ray', got {executor!r}")
    kept, more, funnel_tail = load_object(STEP_EXECUTORS[executor])(kept, steps)
    dropped += more
    report = {"rows_in": len(rows), "funnel": funnel + funnel_tail, "rows_out": len(kept),
              "dropped_total": len(dropped), "executor": executor,
              "seconds": round(time.perf_counter() - started, 3),
              "config": {"steps": specs, "text_field": text_field, "max_chars": max_chars}}
    return kept, dropped, report


def run_steps_local(rows: list[dict], steps: list[tuple[str, str, Any]]) -> tuple[list[dict], list[dict], list]:
    """Run built steps in this process: (kept, dropped, funnel entries with each step's wall seconds)."""
    kept, dropped, funnel = list(rows), [], []
    for kind, name, part in steps:
        started, rows_in = time.perf_counter(), len(kept)
        if kind == "scorer":
            apply_scorers(kept, {name: part})
            funnel.append(funnel_entry(name, "scorer", rows_in, 0, time.perf_counter() - started))
            continue
        kept, lost = apply_one_filter(kept, part, part.reject_batch(kept))
        dropped += lost
        funnel.append(funnel_entry(name, "filter", rows_in, len(lost), time.perf_counter() - started))
    return kept, dropped, funnel


def format_funnel(report: dict) -> str:
    """The funnel as a small table: rows in, dropped per step (in order) with its seconds and rows/s, rows out."""
    lines = [f"{'rows in':<24}{report['rows_in']:>10}"]
    for step in report["funnel"]:
        label = f"  - {step['step']}" + (" (scorer)" if step["kind"] == "scorer" else "")
        line = f"{label:<24}{-step['dropped'] if step['dropped'] else 0:>10}   → {step['rows_after']:<10}"
        if step.get("seconds") is not None:
            rate = step.get("rows_per_s")
            line += f"{step['seconds']:>9.2f} s" + (f"{rate:>11.1f} rows/s" if rate is not None else "")
        lines.append(line.rstrip())
    lines.append(f"{'rows out':<24}{report['rows_out']:>10}")
    if report.get("seconds") is not None:
        lines.append(f"{'total':<24}{'':>10}   {'':<11}{report['seconds']:>9.2f} s")
    return "\n".join(lines)


PROMPT_FIELDS = ("prompt", "instruction_id_list", "kwargs", "category", "source")


def load_input(path: str | Path) -> tuple[list[dict], list[dict]]:
    """(rows, quarantined rows) from a generate run folder, a folder of Parquet shards, or a row file.

    A generate run folder (`candidates/*.parquet` + `prompts.parquet`) has its prompt rows joined on
    `prompt_id`, so filters see `prompt`, `instruction_id_list` and `kwargs` next to each response.
    """
    from ..core.datafiles import read_parquet
    from ..core.errors import InputError
    from ..core.quarantine import read_rows_quarantined
    from ..core.run_state import require_finished
    path = Path(path)
    if not path.exists():
        raise InputError("input does not exist (give a generate run folder or a .parquet/.jsonl file)",
                         path=str(path))
    require_finished(path)
    if path.is_dir():
        shards = path / "candidates"
        if shards.is_dir():
            if not any(shards.glob("*.parquet")):
                raise InputError("generate run folder has no candidates/*.parquet shards", path=str(path))
            rows = read_parquet(shards)
            prompts_file = path / "prompts.parquet"
            prompts = read_parquet(prompts_file) if prompts_file.exists() else []
            return join_prompts(rows, prompts), []
        return read_parquet(path), []
    return read_rows_quarantined(path)


def join_prompts(candidates: list[dict], prompts: list[dict]) -> list[dict]:
    """Candidate rows with their prompt's fields added (the candidate's own values win)."""
    by_id = {p["prompt_id"]: p for p in prompts if "prompt_id" in p}
    joined = []
    for c in candidates:
        p = by_id.get(c.get("prompt_id"), {})
        joined.append({**{k: p[k] for k in PROMPT_FIELDS if k in p}, **c})
    return joined


def curate_run(candidates: Sequence[dict], prompts: Sequence[dict] = (),
               steps: Sequence[dict | str] | dict | None = None, *, input_path: str | None = None,
               out: str | Path | None = None, executor: str = "local", quarantined_rows: Sequence[dict] = (),
               text_field: str = "response"):
    """Curate candidates (joined with their prompts) into a run folder; return the finished RunFolder.

    Writes kept.parquet, dropped.parquet (with `drop_reason`), report.json (the funnel and config),
    metrics.json, then DONE. `quarantined_rows` (unreadable input lines) are counted in and dropped.
    """
    from ..core.datafiles import write_json
    from ..core.run_state import input_fingerprint
    from ..core.runs import RunFolder
    # What was read (content hash) is part of the config: a changed input never rewrites a finished folder.
    inputs = [input_fingerprint(input_path)] if input_path and Path(input_path).exists() else []
    planned = {"steps": step_specs(steps), "text_field": text_field, "max_chars": MAX_TEXT_CHARS,
               "input": input_path, "inputs": inputs}
    finished = RunFolder.finished("curate", planned, out)
    if finished is not None:  # the same config on the same input already finished here: nothing to redo
        return finished
    rows = join_prompts(list(candidates), list(prompts)) if prompts else list(candidates)
    kept, dropped, report = curate_rows(rows, steps, text_field=text_field, executor=executor)
    dropped = list(quarantined_rows) + dropped
    report["rows_in"] += len(quarantined_rows)
    report["funnel"][0]["dropped"] += len(quarantined_rows)
    report["funnel"][0]["rows_in"] = report["funnel"][0].get("rows_in", 0) + len(quarantined_rows)
    report["dropped_total"] = len(dropped)
    report["input"] = input_path
    run = RunFolder.open("curate", {**report["config"], "input": input_path, "inputs": inputs}, out=out)
    report["json_encoded_columns"] = {}
    for name, part in (("kept", [{k: v for k, v in r.items() if k != "_line"} for r in kept]), ("dropped", dropped)):
        report["json_encoded_columns"][name] = write_rows_safely(run, name, part)
    write_json(run.file("report.json"), report)
    run.write_metrics(funnel_metrics(report["rows_in"], len(kept)))
    run.mark_done()
    return run


def write_rows_safely(run, name: str, rows: list[dict]) -> list[str]:
    """Write `<name>.parquet`; if Arrow cannot unify a column's types (say int in one row, text in another),
    store that column's values as JSON text instead of failing after the work is done. Returns those columns."""
    import pyarrow as pa
    try:
        run.write_rows(name, rows)
        return []
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    import json
    columns = list(dict.fromkeys(k for r in rows for k in r))
    mixed = []
    for k in columns:  # find the columns Arrow cannot type on their own
        try:
            pa.array([r.get(k) for r in rows])
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            mixed.append(k)
    run.write_rows(name, [{k: json.dumps(v, default=str) if k in mixed and v is not None else v
                           for k, v in r.items()} for r in rows])
    return mixed
