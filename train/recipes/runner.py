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
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from alignsmith.curate.core.datafiles import write_json
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.records import stable_hash
from alignsmith.curate.core.runs import is_done, write_done

from .slots import cpu_slots, pin_to, slot_env
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


@dataclass
class _Running:
    """A stage whose process is running in one of this runner's slots."""

    stage: Stage
    folder: Path
    process: subprocess.Popen
    slot: int
    started: float
    log: IO[bytes]


def start_stage(stage: Stage, folder: Path, record: dict, *, slot: int = 0, cores: list[int] | None = None) -> _Running:
    """Start one stage's command in a fresh process writing to the folder's log.txt (pinned to `cores`)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "stage.json", record)
    argv = command_for(stage, folder)
    env = {**os.environ, "VLLM_LOGGING_LEVEL": os.environ.get("VLLM_LOGGING_LEVEL", "WARNING"),
           "TRANSFORMERS_VERBOSITY": os.environ.get("TRANSFORMERS_VERBOSITY", "error")}
    log = open(folder / "log.txt", "ab")
    log.write(("$ " + " ".join(argv) + (f"   # cores {','.join(map(str, cores))}" if cores else "") + "\n").encode())
    log.flush()
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=slot_env(env, cores),
                               preexec_fn=pin_to(cores))
    return _Running(stage, folder, process, slot, time.time(), log)


def finish_stage(job: _Running) -> float:
    """Check a finished stage's exit code and output, write DONE; return its seconds. Raises StageFailed
    with the log tail (and leaves no DONE) when the command failed."""
    code = job.process.wait()
    job.log.close()
    seconds = time.time() - job.started
    kind = STAGE_KINDS[job.stage.uses]
    output = output_path(kind, job.folder)
    if code not in kind.ok_exit_codes or not output.exists():
        tail = (job.folder / "log.txt").read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        why = f"exit code {code}" if code not in kind.ok_exit_codes else f"no output at {output}"
        raise StageFailed(f"stage {job.stage.name!r} ({job.stage.uses}) failed: {why}; log "
                          f"{job.folder / 'log.txt'}:\n  " + "\n  ".join(tail))
    write_done(job.folder, json.dumps({"seconds": round(seconds, 1), "exit_code": code}))
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


def _record_time(timings_file: Path, name: str, seconds: float, span: tuple[float, float] | None = None) -> dict:
    """Add a stage's seconds to timings.json and its start/end times to spans.json (beside it), from which
    the report takes the recipe's wall time when stages ran side by side."""
    # Re-read first: another runner working on other stages of the same folder may have added its own.
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    timings[name] = round(seconds, 1)
    write_json(timings_file, timings)
    if span is not None:
        spans_file = timings_file.with_name("spans.json")
        spans = json.loads(spans_file.read_text()) if spans_file.exists() else {}
        spans[name] = [round(span[0], 1), round(span[1], 1)]
        write_json(spans_file, spans)
    return timings


def run_recipe(recipe: Recipe, out: str | Path, *, echo=print, only: set[str] | None = None,
               poll_s: float = 10.0, jobs: int = 1) -> dict:
    """Run every stage of `recipe` under `out` (reusing finished ones); write timings and results.json.

    `jobs`: how many stages may run at once. A stage starts when every stage it reads is finished, in the
    recipe's order among those ready; with jobs > 1 each runs pinned to its own group of cores (slots.py),
    so e.g. the base model's evals run beside candidate generation and the seeds train side by side.
    `only`: run just these stages (folder or YAML names). Several runners may share one folder: each stage
    is claimed with a `running.pid` lock, and a stage another live runner holds is waited for.
    A failed stage stops new starts; stages already running finish, then StageFailed is raised.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    slots = cpu_slots(jobs)
    # Check every existing stage folder first, so a changed config is refused before hours of work.
    records = stage_records(recipe.stages)
    done = {s.name: check_stage_folder(s, out / s.name, records[s.name]) for s in recipe.stages}
    timings_file = out / "timings.json"
    number = {s.name: f"[{i}/{len(recipe.stages)}]" for i, s in enumerate(recipe.stages, 1)}
    pending: list[Stage] = []
    for stage in recipe.stages:
        if only is not None and stage.name not in only and stage.base not in only:
            continue
        if done[stage.name]:
            echo(f"{number[stage.name]} {stage.name}: reused (finished earlier)")
        else:
            pending.append(stage)
    running: dict[str, _Running] = {}
    waiting_on: dict[str, int] = {}
    failure: StageFailed | None = None
    try:
        while pending or running:
            for name, job in list(running.items()):
                if job.process.poll() is None:
                    continue
                del running[name]
                try:
                    seconds = finish_stage(job)
                except StageFailed as e:
                    failure = failure or e
                    continue
                finally:
                    (job.folder / "running.pid").unlink(missing_ok=True)
                _record_time(timings_file, name, seconds, (job.started, job.started + seconds))
                echo(f"    {name} done in {seconds / 60:.1f} min -> {output_path(STAGE_KINDS[job.stage.uses], job.folder)}")
            if failure is not None:
                pending.clear()
            free = [k for k in range(len(slots)) if k not in {j.slot for j in running.values()}]
            for stage in list(pending):
                if not free:
                    break
                if not _inputs_ready(stage, out, pending, running, waiting_on):
                    continue
                folder = out / stage.name
                holder = _claim(folder)
                if holder is not None:
                    if waiting_on.get(stage.name) != holder:
                        echo(f"{number[stage.name]} {stage.name}: waiting for runner process {holder}")
                        waiting_on[stage.name] = holder
                    continue
                waiting_on.pop(stage.name, None)
                pending.remove(stage)
                if is_done(folder):
                    (folder / "running.pid").unlink(missing_ok=True)
                    echo(f"{number[stage.name]} {stage.name}: finished by another runner")
                    continue
                slot = free.pop(0)
                cores = slots[slot]
                where = f" on cores {','.join(map(str, cores))}" if cores else ""
                echo(f"{number[stage.name]} {stage.name} ({stage.uses}){where} ...")
                try:
                    running[stage.name] = start_stage(stage, folder, records[stage.name], slot=slot, cores=cores)
                except BaseException:
                    (folder / "running.pid").unlink(missing_ok=True)
                    raise
            if pending or running:
                time.sleep(min(poll_s, 0.5) if running else poll_s)
    finally:
        for job in running.values():  # interrupted (Ctrl-C, SIGTERM): stop the stages, leave them unfinished
            job.process.terminate()
        for job in running.values():
            try:
                job.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                job.process.kill()
            job.log.close()
            (job.folder / "running.pid").unlink(missing_ok=True)
    if failure is not None:
        raise failure
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


def _inputs_ready(stage: Stage, out: Path, pending: list[Stage], running: dict, waiting_on: dict) -> bool:
    """True when every stage `stage` reads is finished. False while one is still to come (queued or running
    here, or held by another live runner); InputError when one is unfinished and nobody will run it (e.g.
    `--only` names a stage without the stage it reads)."""
    queued = {s.name for s in pending} | set(running) | set(waiting_on)
    for dep in stage.depends:
        if is_done(out / dep):
            continue
        if dep in queued or _held_by_live_runner(out / dep):
            return False
        raise InputError(f"stage {stage.name!r} reads stage {dep!r}, which is not finished and not selected "
                         f"to run: add {dep!r} to --only (or run without --only)", field="only")
    return True


def _held_by_live_runner(folder: Path) -> bool:
    lock = folder / "running.pid"
    try:
        pid = int(lock.read_text().strip() or 0)
        if pid <= 0:
            return False
        os.kill(pid, 0)
        return True
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
