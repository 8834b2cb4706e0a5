"""The harmful-prompt probe's features with the chat template's opening computed once (shared prefix) against
the whole-chat path: agreement of features, probabilities and verdicts, and CPU seconds, in one process on
the same texts.

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/bench_probe_prefix.py \
        [--data ../shared/data] [--hh 1000] [--sets xstest dev hh] [--out FILE.json]
    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/bench_probe_prefix.py --threads 1 2 [--hh 200]

Sets: the 450 XSTest prompts, our dev sets (curate/safety/prompt_dev*.jsonl) and the first human turn of
HH-RLHF test dialogues (half helpful-base, half harmless-base). Each set is scored the way
`HarmfulPromptClassifier` scores it with the shipped head: the request, plus its sentence windows where it is
longer than the probe's window, the probability the highest of them; a phrase rule's hit sets the score to 1
whatever the model says, so a flip is counted on the model's probability alone ("model flips") and on the
classifier's final score ("verdict flips"). CPU seconds are `time.process_time()` of the two `lm_features`
calls (user + system of this process, all threads), the model loaded before either; CPU seconds, unlike
the wall clock, hardly depend on what else the machine runs. Results are written after each set.

--threads N...: instead, the prefix path on the HH requests with torch.set_num_threads(N) for each N, wall
and CPU seconds (on a shared machine the wall clock depends on what else runs).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import time
from importlib import resources
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def xstest(data: Path) -> list[str]:
    with open(data / "xstest" / "xstest_prompts.csv", newline="", encoding="utf-8") as f:
        return [row["prompt"] for row in csv.DictReader(f)]


def dev_sets() -> dict[str, list[str]]:
    folder = resources.files("alignsmith.curate.safety")
    out = {}
    for name in sorted(p.name for p in folder.iterdir() if p.name.startswith("prompt_dev")):
        lines = folder.joinpath(name).read_text(encoding="utf-8").splitlines()
        out[name] = [json.loads(line)["text"] for line in lines if line.strip()]
    return out


def hh_requests(data: Path, n: int) -> list[str]:
    from alignsmith.curate.safety.training_data import hh_turns
    out = []
    for split, want in (("helpful-base", n // 2), ("harmless-base", n - n // 2)):
        with gzip.open(data / "hh_rlhf" / split / "test.jsonl.gz", "rt", encoding="utf-8") as f:
            taken = []
            for line in f:
                turns = hh_turns(json.loads(line)["chosen"])
                if turns and turns[0][0] == "Human" and len(taken) < want:
                    taken.append(turns[0][1])
        out += taken
    return out


def compare(name: str, texts: list[str]) -> dict:
    """Both paths on the same texts (request + sentence windows, as the classifier scores them)."""
    import numpy as np

    from alignsmith.curate.core.models import resolve_model
    from alignsmith.curate.safety import HarmfulPromptClassifier
    from alignsmith.curate.safety.lm_features import (
        _budget,
        _prefix_ids,
        _templated,
        _tokenizer,
        lm_features,
        prefix_path_rows,
    )
    clf = HarmfulPromptClassifier()
    meta = clf.head.meta
    windows = clf._sentence_windows(texts)
    flat = texts + [w for ws in windows for w in ws]
    kw = dict(model=meta["feature_model"], layers=meta["layers"], pools=meta["pools"],
              max_tokens=int(meta["max_tokens"]))
    cpu = {}
    feats = {}
    for run, shared in (("whole", False), ("prefix", True)):
        start = time.process_time()
        feats[run] = lm_features(flat, shared_prefix=shared, **kw)
        cpu[run] = time.process_time() - start
    old, new = feats["whole"], feats["prefix"]

    def per_request(features):
        probs = list(clf.head.probability(features))
        extra = iter(probs[len(texts):])
        return np.array([max([p] + [next(extra) for _ in ws]) for p, ws in zip(probs[:len(texts)], windows)])

    p_old, p_new = per_request(old), per_request(new)
    hits = clf.rule_hits(texts)
    final_old = np.where([h is not None for h in hits], 1.0, p_old)
    final_new = np.where([h is not None for h in hits], 1.0, p_new)
    t = clf.threshold
    model_flips = [{"text": texts[i], "p_whole": round(float(p_old[i]), 6), "p_prefix": round(float(p_new[i]), 6)}
                   for i in np.flatnonzero((p_old >= t) != (p_new >= t))]
    tokenizer = _tokenizer(resolve_model(kw["model"]))
    chats = [_templated(tokenizer, s, _budget(tokenizer, kw["max_tokens"])) for s in flat]
    on_prefix = sum(prefix_path_rows(flat, model=kw["model"], max_tokens=kw["max_tokens"]))
    n_tokens = sum(len(ids) for ids in tokenizer(chats, truncation=True, max_length=kw["max_tokens"])["input_ids"])
    return {"set": name, "requests": len(texts), "rows_with_windows": len(flat), "rows_on_prefix_path": on_prefix,
            "template_prefix_tokens": len(_prefix_ids(tokenizer)), "mean_chat_tokens": round(n_tokens / len(flat), 1),
            "feature_max_abs_diff": float(np.abs(new - old).max()), "feature_max_abs": float(np.abs(old).max()),
            "probability_max_change": float(np.abs(p_new - p_old).max()), "threshold": t,
            "model_flips": model_flips, "verdict_flips": int(((final_old >= t) != (final_new >= t)).sum()),
            "cpu_s_whole": round(cpu["whole"], 2), "cpu_s_prefix": round(cpu["prefix"], 2),
            "speedup": round(cpu["whole"] / cpu["prefix"], 2)}


def threads(texts: list[str], counts: list[int]) -> list[dict]:
    import torch

    from alignsmith.curate.safety.lm_features import lm_features
    out = []
    lm_features(texts[:4])  # load the model first
    for n in counts:
        torch.set_num_threads(n)
        wall, cpu = time.perf_counter(), time.process_time()
        lm_features(texts)
        out.append({"threads": n, "rows": len(texts), "wall_s": round(time.perf_counter() - wall, 2),
                    "cpu_s": round(time.process_time() - cpu, 2)})
        print(out[-1], flush=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--hh", type=int, default=1000, help="HH-RLHF requests (half from each split)")
    parser.add_argument("--sets", nargs="+", default=["xstest", "dev", "hh"], choices=["xstest", "dev", "hh"])
    parser.add_argument("--threads", type=int, nargs="+", help="only measure torch threads on the HH requests")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.threads:
        result = {"threads": threads(hh_requests(args.data, args.hh), args.threads)}
    else:
        from alignsmith.curate.safety.lm_features import lm_features
        lm_features(["warm up"], shared_prefix=True)  # model load and the prefix's one run, outside the timings
        sets = {}
        if "xstest" in args.sets:
            sets["xstest"] = xstest(args.data)
        if "dev" in args.sets:
            sets.update(dev_sets())
        if "hh" in args.sets:
            sets[f"hh_rlhf_{args.hh}"] = hh_requests(args.data, args.hh)
        result = {"sets": []}
        for name, texts in sets.items():
            result["sets"].append(compare(name, texts))
            row = dict(result["sets"][-1], model_flips=len(result["sets"][-1]["model_flips"]))
            print(json.dumps(row), flush=True)
            _write(args.out, result)
    _write(args.out, result)


def _write(path: Path | None, result: dict) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
