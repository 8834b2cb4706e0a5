"""QLoRA against LoRA: memory and seconds per DPO step on SmolLM2-135M, same data and TRL settings.

Each mode runs in its own process (so peak RSS is that mode's own): the cpu-smoke preset, DPO on the first
12 single-turn HH-RLHF helpful-base test pairs, `--steps` steps of batch 2, max_length 192. Reported per mode:
the model's weight memory as loaded (`get_memory_footprint`, bytes of parameters and buffers), the process's
peak resident memory, model load seconds, and the median wall / CPU seconds per step (first step left out).

    OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false nice -n 10 .venv/bin/python benchmarks/bench_qlora.py \
        --steps 6 --json benchmarks/results/qlora.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import StepTimer  # noqa: E402  (the same step timer as the training benchmark)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ALIGNSMITH_SHARED_DATA", ROOT.parent / "shared" / "data"))


class Footprint(StepTimer):
    """StepTimer that also records the model's weight memory when training starts."""

    footprint = None

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        super().on_train_begin(args, state, control, **kwargs)
        self.footprint = model.get_memory_footprint() if hasattr(model, "get_memory_footprint") else None


def one_mode(mode: str, steps: int) -> dict:
    """Train DPO in this process with LoRA or QLoRA and return the measurements."""
    from alignsmith.curate.core.datafiles import write_parquet
    from alignsmith.train import runner
    from alignsmith.train.config import build_config
    from alignsmith.train.methods import train_dpo
    from alignsmith.train.sample_data import hh_rlhf_pairs
    folder = Path(tempfile.mkdtemp(prefix=f"bench-{mode}-"))
    write_parquet(folder / "dpo.parquet", hh_rlhf_pairs(DATA / "hh_rlhf" / "helpful-base" / "test.jsonl.gz", 12))
    config = build_config("dpo", preset="cpu-smoke", overrides={
        "dataset": str(folder / "dpo.parquet"), "out": str(folder / "run"), "qlora": mode == "qlora",
        "trl": {"max_steps": steps, "per_device_train_batch_size": 2, "save_strategy": "no", "max_length": 192}})
    load_seconds = []
    if mode == "qlora":
        from alignsmith.train import qlora
        original = qlora.load_quantized_causal_lm
        target, name = qlora, "load_quantized_causal_lm"
    else:
        original = runner.load_causal_lm
        from alignsmith.train import methods as target
        name = "load_causal_lm"

    def timed(*args, **kwargs):
        t = time.perf_counter()
        model = original(*args, **kwargs)
        load_seconds.append(time.perf_counter() - t)
        return model

    setattr(target, name, timed)
    timer = Footprint()
    started = time.perf_counter()
    result = train_dpo(config, callbacks=[timer])
    wall, cpu = timer.per_step()
    return {"mode": mode, "steps": result.steps, "final_loss": result.final_loss,
            "weights_mb": round(timer.footprint / 2**20, 1) if timer.footprint else None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "load_s": round(load_seconds[0], 2) if load_seconds else None,
            "s_per_step_wall": round(wall, 2) if wall else None, "s_per_step_cpu": round(cpu, 2) if cpu else None,
            "call_s": round(time.perf_counter() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--mode", choices=("lora", "qlora"), help=argparse.SUPPRESS)  # one child process
    args = parser.parse_args()
    if args.mode:
        print("RESULT " + json.dumps(one_mode(args.mode, args.steps)), flush=True)
        return 0
    results = []
    for mode in ("lora", "qlora"):
        out = subprocess.run([sys.executable, __file__, "--mode", mode, "--steps", str(args.steps)],
                             capture_output=True, text=True, check=True)
        line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
        results.append(json.loads(line[len("RESULT "):]))
        print(json.dumps(results[-1]), flush=True)
    import platform

    import torch
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}",
              "model": "SmolLM2-135M-Instruct", "method": "dpo", "steps": args.steps, "results": results}
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
