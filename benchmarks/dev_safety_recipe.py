"""Choose the safety recipe's training on a dev split of its OWN prompts (never AdvBench/HarmBench/XSTest).

Takes a finished `pairs` run of the safety-dpo recipe, holds out every fifth prompt (by prompt-id hash) as
dev, trains each listed variant on the rest (SFT on the best answers, DPO on the pairs, or SFT then DPO from
the SFT weights), answers the dev prompts greedily with vLLM, and reports how often the refusal detector
finds a refusal on dev prompts the classifier labelled harmful (want high) and benign (want low).

    python benchmarks/dev_safety_recipe.py --pairs runs/recipe/safety-dpo-cpu/pairs/run \
        --out runs/dev-safety --variants base,sft40,sft40-dpo20

Every step runs as the `alignsmith` command a user would type, in a fresh process; finished steps are
reused on a rerun. Results: OUT/results.json (one entry per variant) and a printed table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from alignsmith.curate.core.datafiles import write_parquet
from alignsmith.curate.core.records import stable_hash

LORA = {"enabled": True, "r": 16, "alpha": 32, "dropout": 0.0}
COMMON = {"per_device_train_batch_size": 8, "max_length": 384, "lr_scheduler_type": "constant",
          "logging_steps": 5, "save_strategy": "no", "bf16": "auto", "report_to": "none",
          "dataloader_num_workers": 0}
# name -> training steps in order: (method, trl overrides)
VARIANTS = {
    "base": [],
    "sft40": [("sft", {"max_steps": 40, "learning_rate": 2e-4})],
    "sft40-dpo20": [("sft", {"max_steps": 40, "learning_rate": 2e-4}),
                    ("dpo", {"max_steps": 20, "learning_rate": 2e-4, "beta": 0.1})],
    # "mix": SFT on up to 4 good answers per benign prompt and the best per harmful one (mix_rows below)
    "mix60": [("sft:mix", {"max_steps": 60, "learning_rate": 2e-4})],
    "mix60-dpo20": [("sft:mix", {"max_steps": 60, "learning_rate": 2e-4}),
                    ("dpo", {"max_steps": 20, "learning_rate": 2e-4, "beta": 0.1})],
    "sft40-dpo20-lr5": [("sft", {"max_steps": 40, "learning_rate": 2e-4}),
                        ("dpo", {"max_steps": 20, "learning_rate": 5e-4, "beta": 0.1})],
    # Longer training for the larger prompt set of 2026-12-07 (~650 prompts: one SFT epoch is ~65 steps).
    "sft40-dpo40-lr5": [("sft", {"max_steps": 40, "learning_rate": 2e-4}),
                        ("dpo", {"max_steps": 40, "learning_rate": 5e-4, "beta": 0.1})],
    "sft80": [("sft", {"max_steps": 80, "learning_rate": 2e-4})],
    "sft80-dpo40-lr5": [("sft", {"max_steps": 80, "learning_rate": 2e-4}),
                        ("dpo", {"max_steps": 40, "learning_rate": 5e-4, "beta": 0.1})],
}
MIX = {"benign": 4, "harmful": 1}  # rows per prompt by category, best scored first, each scoring >= 0.5
MIX_MIN_SCORE = 0.5


def mix_rows(pairs: Path) -> pd.DataFrame:
    """SFT rows from the pairs run's scored candidates: per prompt its best candidates scoring at least
    MIX_MIN_SCORE, up to MIX[category] of them. The pairs run's own sft.parquet keeps one row per prompt;
    this keeps more of the model's own answers on benign prompts (measured worse on dev, so the recipe does
    not use it)."""
    cands = pd.read_parquet(pairs / "scored_candidates.parquet")
    best = cands[cands["score"] >= MIX_MIN_SCORE].sort_values(["prompt_id", "score", "candidate_id"],
                                                              ascending=[True, False, True])
    rows = []
    for _, group in best.groupby("prompt_id", sort=True):
        for _, c in group.head(MIX[str(group["category"].iloc[0])]).iterrows():
            rows.append({"prompt": [dict(m) for m in c["prompt"]],
                         "completion": [{"role": "assistant", "content": c["response"]}],
                         "prompt_id": c["prompt_id"], "candidate_id": c["candidate_id"],
                         "score": float(c["score"]), "category": c["category"]})
    return pd.DataFrame(rows)


def split(pairs: Path, out: Path, every: int) -> Path:
    """Write OUT/train/{sft,dpo}.parquet without the dev prompts and OUT/dev_prompts.jsonl; return train dir."""
    train = out / "train"
    if (out / "dev_prompts.jsonl").exists() and (train / "mix" / "sft.parquet").exists():
        return train
    train.mkdir(parents=True, exist_ok=True)
    sft, dpo = pd.read_parquet(pairs / "sft.parquet"), pd.read_parquet(pairs / "dpo.parquet")
    is_dev = lambda ids: ids.map(lambda p: int(stable_hash(p), 16) % every == 0)  # noqa: E731
    sft[~is_dev(sft.prompt_id)].to_parquet(train / "sft.parquet")
    dpo[~is_dev(dpo.prompt_id)].to_parquet(train / "dpo.parquet")
    mix = mix_rows(pairs)
    (train / "mix").mkdir(exist_ok=True)
    write_parquet(train / "mix" / "sft.parquet", mix[~is_dev(mix.prompt_id)].to_dict("records"))
    dev = sft[is_dev(sft.prompt_id)]
    with open(out / "dev_prompts.jsonl", "w", encoding="utf-8") as f:
        for _, r in dev.iterrows():
            f.write(json.dumps({"prompt": [dict(m) for m in r.prompt], "category": r.category,
                                "prompt_id": r.prompt_id}) + "\n")
    print(f"split: {len(dev)} dev prompts ({(dev.category == 'harmful').sum()} harmful), "
          f"{len(sft) - len(dev)} train SFT rows, {int((~is_dev(dpo.prompt_id)).sum())} train pairs")
    return train


def cli(argv: list[str], log: Path) -> None:
    env = {**os.environ, "VLLM_LOGGING_LEVEL": "WARNING", "TRANSFORMERS_VERBOSITY": "error"}
    with open(log, "ab") as f:
        code = subprocess.run([sys.executable, "-m", "alignsmith.train.cli", *argv], stdout=f,
                              stderr=subprocess.STDOUT, env=env).returncode
    if code != 0:
        sys.exit(f"failed ({code}): alignsmith {' '.join(argv)}; log {log}")


def run_variant(name: str, train: Path, out: Path, model: str, seed: int, origin: dict[str, str]) -> dict:
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    seconds = {}
    current = model
    for i, (step, trl) in enumerate(VARIANTS[name]):
        method, _, data = step.partition(":")
        # Named by the steps so far, so variants that start alike (sft40, sft40-dpo20) share that training.
        run = out / "steps" / stable_hash(json.dumps([model, seed, VARIANTS[name][:i + 1]]))[:12]
        if not (run / "merged" / "config.json").exists():
            run.mkdir(parents=True, exist_ok=True)
            cfg = run.with_suffix(".yaml")
            cfg.write_text(yaml.safe_dump({"lora": LORA, "trl": {**COMMON, **trl}}))
            started = time.time()
            cli(["train", method, "--config", str(cfg), "--dataset", str(train / data), "--model", current,
                 "--out", str(run), "--merge", "true", "--seed", str(seed)], folder / "log.txt")
            seconds[f"{i}-{method}"] = round(time.time() - started, 1)
        current = str(run / "merged")
    gen = folder / "dev-answers"
    if not (gen / "DONE").exists():
        cfg = folder / "generate.yaml"
        cfg.write_text(yaml.safe_dump({"prompts": str(out / "dev_prompts.jsonl"), "model": current, "n": 1,
                                       "temperature": 0.0, "max_tokens": 128, "seed": 0}))
        cli(["generate", "--config", str(cfg), "--out", str(gen), "--no-progress"], folder / "log.txt")
    return {"model": current, "train_seconds": seconds, **score(gen, origin)}


def origins(pairs: Path) -> dict[str, str]:
    """prompt_id -> the recipe source it came from (hh_harmless, self_instruct, ...), read from the recipe's
    generate-plain run beside the pairs run, where the prompt rows still carry it ({} when not found)."""
    path = pairs.parent.parent / "generate-plain" / "run" / "prompts.parquet"
    if not path.exists():
        return {}
    table = pd.read_parquet(path, columns=["prompt_id", "source"])
    return dict(zip(table.prompt_id, table.source))


def score(gen: Path, origin: dict[str, str] | None = None) -> dict:
    from alignsmith.curate.core.records import user_text
    from alignsmith.curate.generate.run import load_candidates
    from alignsmith.curate.safety import RefusalDetector
    prompts, cands = load_candidates(gen)
    category = {p["prompt_id"]: p["category"] for p in prompts}
    text = {p["prompt_id"]: user_text(p["prompt"]) for p in prompts}
    refused = RefusalDetector().predict([c["response"] for c in cands], [text[c["prompt_id"]] for c in cands])
    source = {p["prompt_id"]: (origin or {}).get(p["prompt_id"], "?") for p in prompts}
    by, by_source = {"harmful": [], "benign": []}, {}
    for c, r in zip(cands, refused):
        by[category[c["prompt_id"]]].append(bool(r))
        by_source.setdefault(f"{category[c['prompt_id']]}/{source[c['prompt_id']]}", []).append(bool(r))
    words = sum(len(c["response"].split()) for c in cands) / max(len(cands), 1)
    return {"harmful_refusal": sum(by["harmful"]) / max(len(by["harmful"]), 1), "n_harmful": len(by["harmful"]),
            "benign_refusal": sum(by["benign"]) / max(len(by["benign"]), 1), "n_benign": len(by["benign"]),
            "response_words": round(words, 1),
            "refused_by_source": {k: [sum(v), len(v)] for k, v in sorted(by_source.items())}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", required=True, type=Path, help="finished pairs run of the safety-dpo recipe")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--variants", default="base,sft40,sft40-dpo20", help=f"from: {', '.join(VARIANTS)}")
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--every", type=int, default=5, help="every Nth prompt (by id hash) is dev")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    train = split(args.pairs, args.out, args.every)
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    for name in args.variants.split(","):
        if name not in VARIANTS:
            sys.exit(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
        print(f"{name} ...", flush=True)
        before = results.get(name, {}).get("train_seconds") or {}
        results[name] = run_variant(name, train, args.out, args.model, args.seed, origins(args.pairs))
        results[name]["train_seconds"] = results[name]["train_seconds"] or before  # a rerun only rescores
        results_file.write_text(json.dumps(results, indent=1))
        r = results[name]
        print(f"  {name}: harmful refusal {r['harmful_refusal']:.3f} (n {r['n_harmful']}), benign refusal "
              f"{r['benign_refusal']:.3f} (n {r['n_benign']}), words {r['response_words']}, "
              f"train s {r['train_seconds']}", flush=True)


if __name__ == "__main__":
    main()
