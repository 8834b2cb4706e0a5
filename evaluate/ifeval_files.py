"""IFEval on files: score a responses file against IFEval input data and write the official outputs.

`alignsmith eval ifeval` calls `run_ifeval`. The outputs match the official checker's files byte for byte
(`eval_results_strict.jsonl`, `eval_results_loose.jsonl`: one JSON object per prompt, keys sorted, in
input order) plus `metrics.json` with IFEval's four accuracies and per-instruction-type accuracy.
"""
from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from alignsmith.curate.core.datafiles import atomic_write_bytes, iter_rows
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.core.runs import RunFolder, metric

MODES = ("strict", "loose")


def load_ifeval_inputs(source: str) -> list[dict]:
    """IFEval-format rows (`key`, `prompt`, `instruction_id_list`, `kwargs`) from a file, or a hub dataset id.

    A path that exists is read as a file; otherwise `source` is tried as a `datasets` hub id (train split),
    which needs network access to the hub.
    """
    if os.path.exists(source):
        numbered = list(iter_rows(source))
    else:
        numbered = list(enumerate(_load_hub(source), 1))
    rows = []
    for line, row in numbered:
        for field in ("prompt", "instruction_id_list", "kwargs"):
            if field not in row:
                raise InputError("missing (IFEval input rows need key, prompt, instruction_id_list, kwargs)",
                                 path=source, line=line, field=field)
        if not isinstance(row["prompt"], str):
            raise InputError(f"must be a string, got {type(row['prompt']).__name__}", path=source, line=line,
                             field="prompt")
        rows.append({"key": row.get("key", line), "prompt": row["prompt"],
                     "instruction_id_list": list(row["instruction_id_list"]), "kwargs": list(row["kwargs"])})
    if not rows:
        raise InputError("no IFEval prompts found", path=source)
    return rows


def _load_hub(dataset_id: str) -> list[dict]:
    try:
        import datasets
        return list(datasets.load_dataset(dataset_id, split="train"))
    except Exception as e:  # offline, unknown id, no such split: all mean "cannot read this source"
        raise InputError(f"not a file, and loading it as a hub dataset failed ({type(e).__name__}: {e}); "
                         "pass a local IFEval input_data.jsonl path (no hub is reachable offline)",
                         path=dataset_id) from None


def load_responses(path: str) -> dict[str, str]:
    """Map prompt text → response from a JSONL with `prompt` and `response` (the official input format)."""
    responses: dict[str, str] = {}
    for line, row in iter_rows(path):
        for field in ("prompt", "response"):
            if field not in row:
                raise InputError("missing", path=path, line=line, field=field)
        prompt, response = row["prompt"], row["response"]
        if prompt in responses and responses[prompt] != response:
            raise InputError("a second, different response for a prompt already answered; keep one per prompt",
                             path=path, line=line, field="response")
        responses[prompt] = response
    return responses


def score_ifeval(inputs: list[dict], responses: dict[str, str]) -> dict[str, list[dict]]:
    """Per mode, one official-format result row per input prompt, in input order."""
    from alignsmith.curate.verifiers import verify
    results: dict[str, list[dict]] = {m: [] for m in MODES}
    for row in inputs:
        if row["prompt"] not in responses:
            raise InputError(f"prompt {row['key']!r} has no response in the responses file "
                             f"(prompt starts: {row['prompt'][:80]!r}); responses are matched by exact prompt text")
        response = responses[row["prompt"]]
        for mode in MODES:
            verdicts = verify(row["instruction_id_list"], row["kwargs"], response, prompt=row["prompt"],
                              mode=mode, key=row["key"])
            results[mode].append({"instruction_id_list": row["instruction_id_list"], "prompt": row["prompt"],
                                  "response": response, "follow_all_instructions": all(verdicts),
                                  "follow_instruction_list": verdicts})
    return results


def _accuracy(values: list[float], seed: int) -> dict:
    from .stats import bootstrap_mean_ci  # numpy: only when scoring, so `alignsmith --help` stays fast
    n = len(values)
    value = sum(values) / n if n else None
    ci = bootstrap_mean_ci(values, seed=seed) if n else None
    return metric(value, higher_is_better=True, n=n, ci=ci)


def ifeval_metrics(results: dict[str, list[dict]], seed: int = 0) -> dict[str, dict]:
    """IFEval's four accuracies and `inst_level_<mode>_acc/<instruction id>`, with bootstrap 95% CIs.

    Instruction-level intervals resample instructions (not prompts), matching how the accuracy is counted.
    """
    metrics = {}
    for mode in MODES:
        prompt_level = [float(r["follow_all_instructions"]) for r in results[mode]]
        by_type: dict[str, list[float]] = defaultdict(list)
        for r in results[mode]:
            for instruction_id, ok in zip(r["instruction_id_list"], r["follow_instruction_list"]):
                by_type[instruction_id].append(float(ok))
        every_instruction = [v for values in by_type.values() for v in values]
        metrics[f"prompt_level_{mode}_acc"] = _accuracy(prompt_level, seed)
        metrics[f"inst_level_{mode}_acc"] = _accuracy(every_instruction, seed)
        for instruction_id in sorted(by_type):
            metrics[f"inst_level_{mode}_acc/{instruction_id}"] = _accuracy(by_type[instruction_id], seed)
    return metrics


def _jsonl_bytes(rows: list[dict]) -> bytes:
    # The official checker writes json.dumps(..., sort_keys=True) lines; same here so files diff cleanly.
    return "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows).encode("utf-8")


def run_ifeval(input_data: str, responses_path: str, out: str | os.PathLike | None = None,
               seed: int = 0) -> tuple[RunFolder, dict]:
    """Score `responses_path` against `input_data`; write the official result files and metrics.json.

    Returns (run folder, metrics). `out` is the output folder (default: a new run folder under the runs root).
    """
    inputs = load_ifeval_inputs(input_data)
    responses = load_responses(responses_path)
    results = score_ifeval(inputs, responses)
    source = str(Path(input_data).resolve()) if os.path.exists(input_data) else str(input_data)
    config = {"task": "ifeval", "input_data": source, "responses": str(Path(responses_path).resolve()),
              "seed": seed}
    run = RunFolder.open("eval", config, out=out)
    for mode in MODES:
        atomic_write_bytes(run.file(f"eval_results_{mode}.jsonl"), _jsonl_bytes(results[mode]))
    metrics = ifeval_metrics(results, seed=seed)
    run.write_metrics(metrics)
    run.mark_done()
    return run, metrics


def add_ifeval(group: Any) -> None:
    """Register `alignsmith eval ifeval`."""
    p = group.add_parser("ifeval", help="score IFEval responses with the shared verifiers (official output files)")
    p.add_argument("--input-data", required=True,
                   help="IFEval input JSONL (key, prompt, instruction_id_list, kwargs) or a hub dataset id")
    p.add_argument("--responses", required=True, help="JSONL with prompt and response, one per prompt")
    p.add_argument("--out", default=None, help="output folder (default: runs/eval/<time>-<hash>)")
    p.add_argument("--seed", type=int, default=0, help="seed for the bootstrap intervals")
    p.set_defaults(func=_cli)


def _cli(args: Any) -> int:
    run, metrics = run_ifeval(args.input_data, args.responses, args.out, seed=args.seed)
    for name in ("prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc",
                 "inst_level_loose_acc"):
        m = metrics[name]
        print(f"{name:24s} {m['value']:.4f}  [{m['ci_low']:.4f}, {m['ci_high']:.4f}]  n={m['n']}")
    print(f"wrote {run.path}/eval_results_strict.jsonl, eval_results_loose.jsonl, metrics.json")
    return 0
