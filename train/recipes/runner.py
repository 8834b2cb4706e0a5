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

from alignsmith.curate.core.datafiles import write_json
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import stable_hash
from alignsmith.curate.core.runs import is_done, write_done

from .spec import Recipe, Stage
from .stages import STAGE_KINDS, output_path


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
    return is_done(folder) and existing.exists()


def command_for(stage: Stage, folder: Path) -> list[str]:
    """The argv that runs the stage in a fresh Python process."""
    kind = STAGE_KINDS[stage.uses]
    argv = kind.build(stage.args, folder)
    if kind.python_step:
        return [sys.executable, "-m", "alignsmith.train.recipes.steps", argv[0],
                json.dumps(stage.args), str(output_path(kind, folder))]
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
    output = output_path(kind, folder)
    if code not in kind.ok_exit_codes or not output.exists():
        tail = (folder / "log.txt").read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        why = f"exit code {code}" if code not in kind.ok_exit_codes else f"no output at {output}"
        raise StageFailed(f"stage {stage.name!r} ({stage.uses}) failed: {why}; log {folder / 'log.txt'}:\n  "
                          + "\n  ".join(tail))
    write_done(folder, json.dumps({"seconds": round(seconds, 1), "exit_code": code}))
    return seconds


def _claim(folder: Path) -> int | None:
    """Take the stage's `running.pid` lock; return None when taken, else the live pid that holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / "running.pid"
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
                os.kill(pid, 0)
                return pid
            except (ValueError, ProcessLookupError, FileNotFoundError):
                lock.unlink(missing_ok=True)  # its runner died: the stage is unfinished, take it over
                continue
            except PermissionError:
                return pid
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        return None


def _wait_for(folder: Path, pid: int, poll_s: float) -> None:
    """Wait while another runner process works on this stage."""
    while not is_done(folder):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(poll_s)


def _record_time(timings_file: Path, name: str, seconds: float) -> dict:
    # Re-read first: another runner working on other stages of the same folder may have added its own.
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    timings[name] = round(seconds, 1)
    write_json(timings_file, timings)
    return timings


def run_recipe(recipe: Recipe, out: str | Path, *, echo=print, only: set[str] | None = None,
               poll_s: float = 10.0) -> dict:
    """Run every stage of `recipe` under `out` (reusing finished ones); write timings and results.json.

    `only`: run just these stages (folder or YAML names); several runners may share one folder, e.g. one
    evaluating the base model while another generates: each stage is claimed with a `running.pid` lock,
    and a runner that meets a stage another live runner holds waits for it.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Check every existing stage folder first, so a changed config is refused before hours of work.
    records = stage_records(recipe.stages)
    done = {s.name: check_stage_folder(s, out / s.name, records[s.name]) for s in recipe.stages}
    timings_file = out / "timings.json"
    for i, stage in enumerate(recipe.stages, 1):
        folder = out / stage.name
        if only is not None and stage.name not in only and stage.base not in only:
            continue
        if done[stage.name]:
            echo(f"[{i}/{len(recipe.stages)}] {stage.name}: reused (finished earlier)")
            continue
        holder = _claim(folder)
        while holder is not None:
            echo(f"[{i}/{len(recipe.stages)}] {stage.name}: waiting for runner process {holder}")
            _wait_for(folder, holder, poll_s)
            holder = None if is_done(folder) else _claim(folder)
        if is_done(folder):
            (folder / "running.pid").unlink(missing_ok=True) if _owned(folder) else None
            echo(f"[{i}/{len(recipe.stages)}] {stage.name}: finished by another runner")
            continue
        echo(f"[{i}/{len(recipe.stages)}] {stage.name} ({stage.uses}) ...")
        try:
            seconds = run_stage(stage, folder, records[stage.name])
        finally:
            (folder / "running.pid").unlink(missing_ok=True)
        _record_time(timings_file, stage.name, seconds)
        echo(f"    done in {seconds / 60:.1f} min -> {output_path(STAGE_KINDS[stage.uses], folder)}")
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    results = None
    from .report import recipe_results
    if recipe.report and all(is_done(out / s.name) for s in recipe.stages):
        results = recipe_results(recipe, out, timings)
        write_json(out / "results.json", results)
        (out / "results.partial.json").unlink(missing_ok=True)
        echo(f"results: {out / 'results.json'}")
    elif recipe.report and any(is_done(out / s.name) for s in recipe.stages if s.uses == "compare"):
        # Some seeds compared, other stages not run (e.g. --only): a report that says it is partial, under a
        # name no reader of results.json picks up.
        partial = recipe_results(recipe, out, timings, partial=True)
        write_json(out / "results.partial.json", partial)
        echo(f"partial results ({len(partial['missing'])} stages not run): {out / 'results.partial.json'}")
    return {"out": str(out), "timings": timings, "results": results}


def _owned(folder: Path) -> bool:
    lock = folder / "running.pid"
    return lock.exists() and lock.read_text().strip() == str(os.getpid())
