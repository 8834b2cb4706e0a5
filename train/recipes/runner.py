"""Run a recipe: each stage in its own folder and a fresh process; finished stages are reused on a rerun.

Why a fresh process per stage: vLLM's CPU backend pins the process's threads, and training that ran after
it in the same process was measurably slower (see train/demo.py); a new process also returns every
engine's memory. Why a subprocess of the CLI rather than a spawned function: the stage then runs exactly
the command a user would type, and its log is the command's own output.

A stage folder holds `stage.json` (what the stage was asked to do, with its hash), `log.txt`, the stage's
own run folder or files, and `DONE` (written last). On a rerun, a stage with DONE and the same hash is
reused; a stage whose stage.json has another hash is refused, naming the stage and the field that changed;
an unfinished stage runs again (the sub-commands resume their own run folders).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from alignsmith.curate.datafiles import atomic_write_bytes, write_json
from alignsmith.curate.errors import InputError
from alignsmith.curate.records import stable_hash

from .spec import Recipe, Stage
from .stages import STAGE_KINDS


class StageFailed(RuntimeError):
    """A stage's command exited with an error; its log names what went wrong."""


def stage_record(stage: Stage, upstream: dict[str, str] | None = None) -> dict:
    """What decides a stage's output: its kind, resolved fields and the hashes of the stages it reads
    (so a changed upstream stage makes every stage after it a different stage, not a stale reuse)."""
    record = {"uses": stage.uses, "args": stage.args, "upstream": dict(sorted((upstream or {}).items()))}
    return {**record, "hash": stable_hash(record)}


def stage_records(stages: list[Stage]) -> dict[str, dict]:
    """Every stage's record, upstream hashes included (stages are in dependency order)."""
    records: dict[str, dict] = {}
    for s in stages:
        records[s.name] = stage_record(s, {d: records[d]["hash"] for d in s.depends})
    return records


def _flatten(value, prefix: str = "") -> dict:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def changed_fields(old: dict, new: dict) -> list[str]:
    """Dotted names of the fields whose values differ between two stage records."""
    a, b = _flatten({"uses": old.get("uses"), **(old.get("args") or {}), "upstream": old.get("upstream") or {}}), \
        _flatten({"uses": new.get("uses"), **(new.get("args") or {}), "upstream": new.get("upstream") or {}})
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def check_stage_folder(stage: Stage, folder: Path, record: dict) -> bool:
    """True when the folder holds this stage finished; raise InputError when another config made it."""
    existing = folder / "stage.json"
    if existing.exists():
        old = json.loads(existing.read_text(encoding="utf-8"))
        if "upstream" not in old and old.get("hash") == stable_hash({"uses": stage.uses, "args": stage.args}):
            # Written before stage records carried upstream hashes (same stage otherwise): upgrade in place.
            write_json(existing, record)
            old = record
        if old.get("hash") != record["hash"]:
            fields = changed_fields(old, record)
            upstream = [f.split(".", 1)[1] for f in fields if f.startswith("upstream.")]
            hint = (f"; an earlier stage it reads changed ({', '.join(upstream)}): delete this folder and the "
                    "ones after it to rerun them") if upstream else ""
            raise InputError(f"stage {stage.name!r}: its folder {folder} was made by a different config "
                             f"(changed: {', '.join(fields) or 'hash'}){hint}; or use another --out",
                             field=fields[0] if fields else "args")
    return (folder / "DONE").exists() and existing.exists()


def command_for(stage: Stage, folder: Path) -> list[str]:
    """The argv that runs the stage in a fresh Python process."""
    kind = STAGE_KINDS[stage.uses]
    argv = kind.build(stage.args, folder)
    if kind.python_step:
        return [sys.executable, "-m", "alignsmith.train.recipes.steps", argv[0],
                json.dumps(stage.args), str(folder / kind.output)]
    return [sys.executable, "-m", "alignsmith.train.cli", *argv]


def run_stage(stage: Stage, folder: Path, record: dict) -> float:
    """Run one stage into its folder (DONE last); return its seconds. Raises StageFailed with the log tail."""
    kind = STAGE_KINDS[stage.uses]
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "stage.json", record)
    argv = command_for(stage, folder)
    started = time.time()
    env = {**os.environ, "VLLM_LOGGING_LEVEL": os.environ.get("VLLM_LOGGING_LEVEL", "WARNING"),
           "TRANSFORMERS_VERBOSITY": os.environ.get("TRANSFORMERS_VERBOSITY", "error")}
    with open(folder / "log.txt", "ab") as log:
        log.write(("$ " + " ".join(argv) + "\n").encode())
        log.flush()
        code = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=env).returncode
    seconds = time.time() - started
    output = folder / kind.output
    if code not in kind.ok_exit_codes or not output.exists():
        tail = (folder / "log.txt").read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        why = f"exit code {code}" if code not in kind.ok_exit_codes else f"no output at {output}"
        raise StageFailed(f"stage {stage.name!r} ({stage.uses}) failed: {why}; log {folder / 'log.txt'}:\n  "
                          + "\n  ".join(tail))
    atomic_write_bytes(folder / "DONE", json.dumps({"seconds": round(seconds, 1), "exit_code": code}).encode())
    return seconds


def run_recipe(recipe: Recipe, out: str | Path, *, echo=print) -> dict:
    """Run every stage of `recipe` under `out` (reusing finished ones); write timings and results.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Check every existing stage folder first, so a changed config is refused before hours of work.
    records = stage_records(recipe.stages)
    done = {s.name: check_stage_folder(s, out / s.name, records[s.name]) for s in recipe.stages}
    timings_file = out / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    for i, stage in enumerate(recipe.stages, 1):
        folder = out / stage.name
        if done[stage.name]:
            echo(f"[{i}/{len(recipe.stages)}] {stage.name}: reused (finished earlier)")
            continue
        echo(f"[{i}/{len(recipe.stages)}] {stage.name} ({stage.uses}) ...")
        seconds = run_stage(stage, folder, records[stage.name])
        timings[stage.name] = round(seconds, 1)
        write_json(timings_file, timings)
        echo(f"    done in {seconds / 60:.1f} min -> {folder / STAGE_KINDS[stage.uses].output}")
    results = None
    if recipe.report:
        from .report import recipe_results
        results = recipe_results(recipe, out, timings)
        write_json(out / "results.json", results)
        echo(f"results: {out / 'results.json'}")
    return {"out": str(out), "timings": timings, "results": results}
