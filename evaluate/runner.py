"""`eval run`: generate (or read) responses for each task's items, score them, write an eval run folder."""
from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from alignsmith.curate.core.run_state import file_sha256
from alignsmith.curate.core.runs import RunFolder

from .responses import match_responses
from .run_config import EvalRunConfig
from .tasks import EvalItem, EvalSample, Task, get_task

LINEAGE_FILE = "alignsmith_lineage.json"


def _sha256(path: Path) -> str:
    return file_sha256(path)


def model_record(model: str | None) -> dict:
    """The model's resolved folder, its checkpoint lineage and chat-template hash (when it is local)."""
    if not model:
        return {"model": None}
    from alignsmith.curate.core.models import ModelNotFoundError, resolve_model
    try:
        path = Path(resolve_model(model))
    except ModelNotFoundError:
        return {"model": model, "model_path": None}  # a label for scored responses, or a remote model
    from alignsmith.curate.core.run_state import require_finished
    require_finished(path)  # weights inside a killed or running training run are not a model to evaluate
    record: dict[str, Any] = {"model": model, "model_path": str(path.resolve())}
    lineage = path / LINEAGE_FILE
    record["lineage"] = json.loads(lineage.read_text()) if lineage.exists() else None
    record["chat_template_sha256"] = chat_template_hash(path)
    return record


def chat_template_hash(path: Path) -> str | None:
    """sha256 of the model folder's chat template (the .jinja file or tokenizer_config's entry)."""
    jinja = path / "chat_template.jinja"
    if jinja.exists():
        return hashlib.sha256(jinja.read_bytes()).hexdigest()
    config = path / "tokenizer_config.json"
    if config.exists():
        template = json.loads(config.read_text()).get("chat_template")
        if template:
            return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    return None


def _task_record(task: Task) -> dict:
    return {"version": task.version, "options": task.settings(), "primary": task.primary,
            "max_tokens": task.default_max_tokens,
            "metrics": [{"name": m.name, "higher_is_better": m.higher_is_better, "weight": m.weight}
                        for m in task.metrics]}


def build_tasks(cfg: EvalRunConfig) -> dict[str, Task]:
    """Task objects by name, with their options; unknown names fail before any work."""
    if not cfg.tasks:
        raise ValueError("no tasks given; choose from ifeval, constraints, safety, winrate")
    return {name: get_task(name, **cfg.task_options.get(name, {})) for name in cfg.tasks}


def run_config(cfg: EvalRunConfig, tasks: dict[str, Task]) -> dict:
    """The resolved config written to config.yaml (and hashed for the folder name)."""
    config = {"model": {**model_record(cfg.model), "label": cfg.label}, "backend": None if cfg.responses else cfg.backend,
              "decoding": None if cfg.responses else {
                  "temperature": cfg.temperature, "top_p": cfg.top_p, "max_tokens": cfg.max_tokens,
                  "seed": cfg.seed, "n": cfg.samples, "max_model_len": cfg.max_model_len},
              "limit": cfg.limit, "tasks": {n: _task_record(t) for n, t in tasks.items()}}
    if cfg.responses:
        config["responses"] = {"path": str(Path(cfg.responses).resolve()),
                               "sha256": _sha256(Path(cfg.responses))}
    return config


def _generate(cfg: EvalRunConfig, tasks: dict[str, Task], wanted: dict[str, list[EvalItem]]):
    """Responses for every wanted item, one engine, one batch per distinct max_tokens."""
    from alignsmith.curate.backends import GenParams, get_backend
    options = {"max_model_len": cfg.max_model_len} if cfg.backend == "vllm" else {}
    backend = get_backend(cfg.backend, cfg.model, **options)
    by_budget: dict[int, list[tuple[str, EvalItem]]] = {}
    for name, items in wanted.items():
        budget = cfg.max_tokens or tasks[name].default_max_tokens
        by_budget.setdefault(budget, []).extend((name, it) for it in items)
    answers = {}
    for budget, pairs in sorted(by_budget.items()):
        params = GenParams(n=cfg.samples, temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=budget,
                           seed=cfg.seed)
        print(f"eval: generating {len(pairs)} responses (max {budget} tokens) with {cfg.backend}",
              file=sys.stderr)
        outputs = backend.generate([it.prompt for _, it in pairs], params)
        for (name, it), completions in zip(pairs, outputs):
            answers[(name, it.item_id)] = [(c.text, c.finish_reason) for c in completions]
    return answers, backend


def _item_row(task: Task, sample: EvalSample, values: dict) -> dict:
    row = {"task": task.name, "task_version": task.version, "item_id": sample.item.item_id,
           "prompt_id": sample.item.prompt_id, "subset": sample.item.subset, "prompt": sample.item.prompt,
           "sample": sample.sample, "response": sample.response, "finish_reason": sample.finish_reason}
    if "reference" in sample.item.info:
        row["reference_response"] = sample.item.info["reference"]
    row.update({k: (None if v is None else float(v)) for k, v in values.items()})
    return row


def _uniform(rows: list[dict]) -> list[dict]:
    """Every row with every column (None where absent): Arrow takes the columns from the first row only,
    so a safety or win-rate column that ifeval rows lack would otherwise be dropped."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return [{c: row.get(c) for c in columns} for row in rows]


def run_eval(cfg: EvalRunConfig, out: str | None = None, timings: dict[str, float] | None = None) -> RunFolder:
    """Run the eval described by `cfg` into a run folder (resumed when unfinished, returned when done).

    `timings`, if given, receives seconds per phase (`generate`, `score/<task>`) for benchmarks.
    """
    timings = {} if timings is None else timings
    tasks = build_tasks(cfg)
    for task in tasks.values():
        task.attach(model=cfg.model)
    all_items = {name: t.items() for name, t in tasks.items()}
    wanted = {name: items[:cfg.limit] if cfg.limit else items for name, items in all_items.items()}
    if cfg.responses is None and not cfg.model:
        raise ValueError("give --model to generate responses, or --responses FILE to score existing ones")
    if cfg.responses and cfg.samples != 1:
        raise ValueError("--responses scores one response per item; use samples=1")
    run = RunFolder.open("eval", run_config(cfg, tasks), out)
    if run.done:
        print(f"eval: {run.path} is already complete", file=sys.stderr)
        return run
    answers, backend = _collect_answers(cfg, run, tasks, all_items, wanted, timings)
    try:
        rows, metrics = _score_all(cfg, tasks, wanted, answers, backend, timings)
    finally:
        if backend is not None:
            backend.close()
    run.write_rows("items", _uniform(rows))
    run.write_metrics(metrics)
    run.mark_done()
    return run


def _collect_answers(cfg, run, tasks, all_items, wanted, timings):
    """(task, item_id) → [(response, finish_reason), ...] from the file, a resumed run, or the model."""
    if cfg.responses:
        matched = match_responses(cfg.responses, all_items, wanted, {n: t.version for n, t in tasks.items()})
        return {k: [(a.response, a.finish_reason)] for k, a in matched.items()}, None
    if run.file("responses.parquet").exists():
        # Resuming: generation finished before the crash; score what was generated.
        answers: dict = {}
        for r in run.read_rows("responses"):
            answers.setdefault((r["task"], r["item_id"]), []).append((r["response"], r["finish_reason"]))
        print(f"eval: resuming {run.path} with its generated responses", file=sys.stderr)
        return answers, None
    start = time.perf_counter()
    answers, backend = _generate(cfg, tasks, wanted)
    timings["generate"] = time.perf_counter() - start
    run.write_rows("responses", [{"task": t, "item_id": i, "sample": k, "response": text, "finish_reason": why}
                                 for (t, i), outs in answers.items() for k, (text, why) in enumerate(outs)])
    return answers, backend


def _score_all(cfg, tasks, wanted, answers, backend, timings):
    """Item rows (one per item and sample) and metrics.json entries for every task."""
    rows, metrics = [], {}
    for name, task in tasks.items():
        task.attach(model=cfg.model, backend=backend)
        samples = [EvalSample(it, text, why, k) for it in wanted[name]
                   for k, (text, why) in enumerate(answers[(name, it.item_id)])]
        print(f"eval: scoring {len(samples)} {name} responses", file=sys.stderr)
        start = time.perf_counter()
        task_rows = [_item_row(task, s, v) for s, v in zip(samples, task.score_batch(samples))]
        rows.extend(task_rows)
        metrics.update(task.aggregate(task_rows, seed=cfg.seed))
        timings[f"score/{name}"] = time.perf_counter() - start
        for key, value in getattr(task, "judge_notes", {}).items():
            metrics[f"{name}/{task.metrics[0].name}"][f"judge_{key}"] = value
    return rows, metrics
