"""Evaluation during training: at each save, a small constraint-following eval on the current weights.

Held-out prompts with IFEval-style constraints are answered greedily by the in-memory model and checked
by the shared verifiers (`alignsmith.curate.verifiers.verify`). One JSON line per save is appended to
`<output_dir>/train_evals.jsonl` (format: docs/formats.md, "Training evals"), and the same record is
written as `train_eval.json` in the checkpoint folder. Cheap by design: a few prompts, short answers.
"""
from __future__ import annotations

import datetime as _dt
import json
import time
from pathlib import Path
from typing import Callable

from transformers import TrainerCallback

TRAIN_EVALS_FILE = "train_evals.jsonl"


def load_eval_prompts(path: str, n_prompts: int) -> list[dict]:
    """The first `n_prompts` rows that carry constraints (prompt, instruction_id_list, kwargs)."""
    from alignsmith.curate.core.datafiles import read_rows
    from alignsmith.curate.core.records import as_messages, clean_kwargs
    out = []
    for row in read_rows(path):
        ids = list(row.get("instruction_id_list") or [])
        if not ids:
            continue
        text = row.get("prompt")
        out.append({"prompt": as_messages(text), "instruction_id_list": ids,
                    "kwargs": [clean_kwargs(k) for k in (row.get("kwargs") or [{} for _ in ids])]})
        if len(out) >= n_prompts:
            break
    return out


def greedy_answers(model, tokenizer, prompts: list[list[dict]], max_tokens: int) -> list[str]:
    """Greedy completions from the in-memory model, one prompt at a time (no padding subtleties)."""
    import torch
    was_training = model.training
    model.eval()
    answers = []
    try:
        for messages in prompts:
            ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                return_dict=False)
            device = next(model.parameters()).device
            inputs = torch.tensor([list(ids)], device=device)
            with torch.no_grad():
                out = model.generate(inputs, attention_mask=torch.ones_like(inputs), do_sample=False,
                                     max_new_tokens=max_tokens, pad_token_id=tokenizer.pad_token_id
                                     or tokenizer.eos_token_id)
            answers.append(tokenizer.decode(out[0, inputs.shape[1]:], skip_special_tokens=True))
    finally:
        model.train(was_training)
    return answers


def score_answers(items: list[dict], answers: list[str], verify: Callable, mode: str) -> dict:
    """Prompt-level (all constraints met) and instruction-level accuracy, plus the mean fraction met."""
    from alignsmith.curate.core.records import user_text
    per_prompt, met, total = [], 0, 0
    for item, answer in zip(items, answers):
        verdicts = verify(item["instruction_id_list"], item["kwargs"], answer,
                          prompt=user_text(item["prompt"]), mode=mode)
        per_prompt.append(all(verdicts))
        met, total = met + sum(map(bool, verdicts)), total + len(verdicts)
    n = len(per_prompt)
    return {"n_prompts": n, "prompt_accuracy": sum(per_prompt) / n if n else None,
            "instruction_accuracy": met / total if total else None}


class ConstraintEvalCallback(TrainerCallback):
    """At each save: answer held-out constraint prompts with the current weights and record accuracy."""

    def __init__(self, prompts_path: str, *, n_prompts: int = 8, max_tokens: int = 64, mode: str = "strict",
                 verify: Callable | None = None):
        self.items = load_eval_prompts(prompts_path, n_prompts)
        self.prompts_path, self.max_tokens, self.mode = prompts_path, max_tokens, mode
        self._verify = verify

    def verify(self) -> Callable:
        """The verify function (the shared verifiers unless one was injected)."""
        if self._verify is None:
            from alignsmith.curate.verifiers import verify
            self._verify = verify
        return self._verify

    def on_save(self, args, state, control, model=None, processing_class=None, **kwargs):
        """Evaluate the in-memory weights just saved and append the record."""
        if not state.is_world_process_zero or model is None or not self.items:
            return control
        policy = getattr(model, "policy", model)  # PPO hands over a policy+value wrapper
        tokenizer = processing_class or kwargs.get("tokenizer")
        started = time.perf_counter()
        answers = greedy_answers(policy, tokenizer, [i["prompt"] for i in self.items], self.max_tokens)
        record = {"step": state.global_step, "epoch": state.epoch,
                  "checkpoint": str(Path(args.output_dir) / f"checkpoint-{state.global_step}"),
                  "prompts_file": self.prompts_path, "mode": self.mode, "max_tokens": self.max_tokens,
                  **score_answers(self.items, answers, self.verify(), self.mode),
                  "seconds": round(time.perf_counter() - started, 3),
                  "written_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        append_eval(Path(args.output_dir), record)
        return control


def append_eval(output_dir: Path, record: dict) -> None:
    """Append one record to train_evals.jsonl and copy it into its checkpoint folder (if it exists)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    with open(output_dir / TRAIN_EVALS_FILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
    ckpt = Path(record["checkpoint"])
    if ckpt.is_dir():
        from alignsmith.curate.core.datafiles import write_json
        write_json(ckpt / "train_eval.json", record)


def read_train_evals(output_dir: str | Path) -> list[dict]:
    """All eval records of a training run, in save order."""
    path = Path(output_dir) / TRAIN_EVALS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
