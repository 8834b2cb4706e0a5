"""What an eval run does, as one dataclass apart from the runner that does it.

`alignsmith eval run --help` shows these fields' help, and building the parser must stay light (the runner
pulls in numpy through the tasks), so the config lives here; `evaluate.runner` imports it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alignsmith.curate.core.config import option

DEFAULT_TASKS = ("ifeval", "constraints", "safety", "winrate")


@dataclass
class EvalRunConfig:
    """What an eval run does. `responses` set: score that file instead of generating."""

    model: str | None = option(
        "model name or local folder to generate with; with `responses`, only a label (required without it)")
    tasks: list[str] = option("eval tasks to run: ifeval, constraints, safety, winrate (or a registered task)",
                              factory=lambda: list(DEFAULT_TASKS))
    limit: int | None = option("evaluate only the first N items of each task; null: all", None)
    backend: str = option("generation engine: vllm (in-process), hf (transformers) or openai (HTTP server)",
                          "vllm")
    responses: str | None = option(
        "score this JSONL/JSON/CSV/Parquet file of responses (`response` plus item_id, prompt_id or prompt) "
        "instead of generating; null: generate", None)
    temperature: float = option("sampling temperature; 0 is greedy, so a score does not depend on sampling luck",
                                0.0)
    top_p: float = option("nucleus sampling mass, 0 < top_p <= 1 (1: off)", 1.0)
    max_tokens: int | None = option("most new tokens per response; null: each task's own budget", None)
    seed: int = option("seed of the engine's sampling and of the bootstrap confidence intervals", 0)
    max_model_len: int = option("vLLM context length in tokens, prompt plus answer (vllm backend only)", 2048)
    task_options: dict[str, dict[str, Any]] = option(
        "task name -> its options, e.g. {winrate: {judge: reward}, ifeval: {path: FILE}}", factory=dict)
    samples: int = option("sampled responses per item (use temperature > 0); metrics average them per item "
                          "first", 1)
    label: str | None = option("display name of the model in reports; null: the model name", None)
