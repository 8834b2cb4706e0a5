"""The stage kinds a recipe may chain: for each, its fields, the command that runs it and where its output is.

Most kinds are the existing `alignsmith` sub-commands, called with `--out` inside the stage's folder; the
few steps no sub-command does (reading HH-RLHF first turns, labelling prompts harmful or benign, adding a
system prompt, merging context-distillation candidates) are plain functions in `steps.py`, run the same way
in a fresh process.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from alignsmith.curate.core.errors import InputError

Builder = Callable[[dict, Path], list[str]]


@dataclass(frozen=True)
class StageKind:
    """One kind of stage: the fields it needs, the fields it may take, its command and its output path."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    build: Builder                      # (args, stage folder) -> argv after `alignsmith` (or the step name)
    output: str                         # output path relative to the recipe folder; {name} is the stage's
    python_step: bool = False           # True: run by `python -m alignsmith.train.recipes.steps`
    ok_exit_codes: tuple[int, ...] = field(default=(0,))


def runs_dir(folder: Path, kind: str) -> Path:
    """Where a stage's eval / train / compare run folder goes: OUT/runs/<kind>/<stage>, so that
    `alignsmith dashboard --runs OUT/runs` shows the recipe's models, evals and comparisons together."""
    return folder.parent / "runs" / kind / folder.name


def output_path(kind: StageKind, folder: Path) -> Path:
    """The output a stage in `folder` (OUT/<stage>) leaves for later stages."""
    return folder.parent / kind.output.format(name=folder.name)


def _write_yaml(folder: Path, name: str, data: Any) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return str(path)


def _flags(args: dict, names: dict[str, str]) -> list[str]:
    """`--flag value` for each recipe field that is set (names: field -> flag)."""
    out = []
    for key, flag in names.items():
        if args.get(key) is not None:
            out += [flag, str(args[key])]
    return out


def _augment(args: dict, folder: Path) -> list[str]:
    argv = ["prompts", "augment", "--input", args["input"], "--out", str(folder / "prompts.jsonl")]
    argv += _flags(args, {"seed": "--seed", "min": "--min", "max": "--max"})
    if args.get("allow"):
        argv += ["--allow", ",".join(args["allow"])]
    return argv


def _decontam(args: dict, folder: Path) -> list[str]:
    argv = ["curate", "decontam", "--input", args["input"], "--out", str(folder / "run"),
            "--text-field", args.get("text_field", "prompt")]
    if args.get("sets"):
        argv += ["--sets", ",".join(args["sets"])]
    for spec in args.get("extra") or []:
        argv += ["--extra", spec]
    for name in args.get("eval_prompts") or []:
        if name not in EVAL_PROMPT_FILES:
            raise InputError(f"unknown eval prompt set {name!r}; known: {', '.join(EVAL_PROMPT_FILES)}",
                             field="eval_prompts")
        argv += ["--extra", EVAL_PROMPT_FILES[name]()]
    return argv + _flags(args, {"data": "--data", "ngram": "--ngram", "near_dup_threshold": "--near-dup-threshold"})


def _help_seeking_prompts() -> str:
    from alignsmith.evaluate.task_safety import HELP_SEEKING
    return f"{HELP_SEEKING}:text"


# Eval prompt files shipped inside the package (no data-folder path to name in a recipe): decontam's
# `eval_prompts: [help_seeking]` adds the safety task's own help-seeking requests to the sets checked.
EVAL_PROMPT_FILES = {"help_seeking": _help_seeking_prompts}


def _generate(args: dict, folder: Path) -> list[str]:
    config = {k: v for k, v in args.items() if k != "prompts"}
    config["prompts"] = args["prompts"]
    return ["generate", "--config", _write_yaml(folder, "generate.yaml", config), "--out", str(folder / "run"),
            "--no-progress"]


def _curate(args: dict, folder: Path) -> list[str]:
    return ["curate", "--input", args["input"], "--config", _write_yaml(folder, "curate.yaml", args["steps"]),
            "--out", str(folder / "run")]


def _pairs(args: dict, folder: Path) -> list[str]:
    return ["pairs", "--input", args["input"], "--config", _write_yaml(folder, "pairs.yaml", args["config"]),
            "--out", str(folder / "run")]


def _train(method: str) -> Builder:
    """`alignsmith train METHOD` with the stage's config, merged weights kept for the stages after it."""
    def build(args: dict, folder: Path) -> list[str]:
        config = dict(args.get("config") or {})
        argv = ["train", method, "--config", _write_yaml(folder, "train.yaml", config), "--dataset",
                args["dataset"], "--out", str(runs_dir(folder, f"train-{method}")), "--merge", "true"]
        return argv + _flags(args, {"model": "--model", "seed": "--seed"})
    return build


def _eval(args: dict, folder: Path) -> list[str]:
    argv = ["eval", "run", "--model", args["model"], "--tasks", ",".join(args["tasks"]),
            "--out", str(runs_dir(folder, "eval"))]
    argv += _flags(args, {"limit": "--limit", "max_tokens": "--max-tokens", "temperature": "--temperature",
                          "label": "--label", "seed": "--seed", "backend": "--backend"})
    for option in args.get("set") or []:
        argv += ["--set", option]
    return argv


def _compare(args: dict, folder: Path) -> list[str]:
    return ["compare", args["base"], args["new"], "--out", str(runs_dir(folder, "compare"))]


def _step(name: str) -> Builder:
    return lambda args, folder: [name]


STAGE_KINDS: dict[str, StageKind] = {
    "prompts_from_sources": StageKind(("sources",), ("seed", "min_words", "max_words", "data"),
                                      _step("prompts_from_sources"), "{name}/prompts.jsonl", python_step=True),
    "augment": StageKind(("input",), ("seed", "min", "max", "allow"), _augment, "{name}/prompts.jsonl"),
    "decontam": StageKind(("input",), ("sets", "extra", "eval_prompts", "text_field", "data", "ngram",
                                           "near_dup_threshold"),
                          _decontam, "{name}/run/kept.jsonl"),
    "label_harm": StageKind(("input",), ("limit_harmful", "limit_benign", "seed", "sentences", "use_given_labels"),
                            _step("label_harm"), "{name}/prompts.jsonl", python_step=True),
    "system_prompt": StageKind(("input", "system"), (), _step("system_prompt"), "{name}/prompts.jsonl",
                               python_step=True),
    "generate": StageKind(("prompts",), ("model", "backend", "n", "temperature", "top_p", "max_tokens", "seed",
                                         "shard_size", "backend_options"), _generate, "{name}/run"),
    "merge_candidates": StageKind(("plain", "distilled"), ("written_refusals",), _step("merge_candidates"),
                                  "{name}/candidates.parquet",
                                  python_step=True),
    "curate": StageKind(("input", "steps"), (), _curate, "{name}/run"),
    "pairs": StageKind(("input", "config"), (), _pairs, "{name}/run"),
    # SFT (e.g. a warm start on the pairs run's best answers, sft.parquet) and DPO; each writes merged weights.
    "train_sft": StageKind(("dataset",), ("config", "model", "seed"), _train("sft"), "runs/train-sft/{name}/merged"),
    "train_dpo": StageKind(("dataset",), ("config", "model", "seed"), _train("dpo"), "runs/train-dpo/{name}/merged"),
    "eval": StageKind(("model", "tasks"), ("limit", "max_tokens", "temperature", "label", "seed", "backend", "set"),
                      _eval, "runs/eval/{name}"),
    # `compare` exits 1 when it finds a significant regression: a finding to report, not a failed stage.
    "compare": StageKind(("base", "new"), (), _compare, "runs/compare/{name}", ok_exit_codes=(0, 1)),
}
