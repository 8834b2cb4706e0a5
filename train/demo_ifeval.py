"""The demo's check on a benchmark nobody here wrote: base and each trained model answer the first N official
IFEval prompts greedily, and each seed is compared with base exactly as `alignsmith compare` does it.

compare_runs picks McNemar's exact test for the prompt-level pass/fail metrics and the sign-flip permutation
test for the instruction-level ones (weighted by instruction count), Holm-corrects across the four, and gives
every metric its minimum detectable effect at 80% power, so a "no significant change" comes with the size of
change this slice could have seen. How the default N was chosen: DemoConfig.ifeval_prompts.
"""
from __future__ import annotations

from pathlib import Path

METRICS = ("ifeval/prompt_strict", "ifeval/prompt_loose", "ifeval/inst_strict", "ifeval/inst_loose")
MAX_TOKENS = 384  # the budget of issue 17's full-set measurement, so the numbers compare with it
_KEPT = ("test", "n", "base", "new", "diff", "ci_low", "ci_high", "p_value", "p_holm", "mde", "discordant",
         "verdict", "note")


def resolve_ifeval_slice(prompts: int, path: str = "") -> tuple[str, int, int] | None:
    """(IFEval source, prompts used, prompts in the file), checked before the demo does any work; None when
    `prompts` is 0. Raises ValueError / FileNotFoundError / InputError naming the flag or the file's line."""
    from alignsmith.evaluate.task_ifeval import IFEVAL_DEFAULT
    from alignsmith.evaluate.tasks import data_root, get_task
    if prompts < 0:
        raise ValueError(f"--ifeval-prompts must be 0 (no IFEval check) or a positive count, got {prompts}")
    if prompts == 0:
        return None
    source = path or str(data_root() / IFEVAL_DEFAULT)
    if Path(source).exists():
        source = str(Path(source).resolve())  # the eval processes must read the same file
    elif not path:
        raise FileNotFoundError(f"IFEval input data not found at {source}: set $ALIGNSMITH_DATA to the folder "
                                f"that holds {IFEVAL_DEFAULT}, give the demo --ifeval-path FILE, or "
                                "--ifeval-prompts 0 to leave the IFEval check out")
    elif not _looks_like_hub_id(path):
        raise FileNotFoundError(f"--ifeval-path {path}: no such file (give IFEval's input_data.jsonl, or "
                                "--ifeval-prompts 0 to leave the IFEval check out)")
    try:
        total = len(get_task("ifeval", path=source).items())
    except FileNotFoundError as err:  # a hub id that cannot be loaded (offline)
        raise FileNotFoundError(f"--ifeval-path: {err}; or --ifeval-prompts 0 to leave the IFEval check out") from None
    return source, min(prompts, total), total


def _looks_like_hub_id(text: str) -> bool:
    """`owner/name` as on the hub (google/IFEval), not a relative file path."""
    owner, sep, name = text.partition("/")
    return bool(sep and owner and name and "/" not in name and not owner.startswith(".")
                and not name.endswith((".jsonl", ".json", ".gz")))


def evaluate_ifeval(backend: str, source: str, prompts: int, label: str, model: str) -> Path:
    """One greedy eval run of `model` on the first `prompts` IFEval prompts (the runner `eval run` uses)."""
    import sys

    from alignsmith.evaluate.runner import EvalRunConfig, run_eval
    cfg = EvalRunConfig(model=model, tasks=["ifeval"], backend=backend, temperature=0.0, top_p=1.0, seed=0,
                        max_tokens=MAX_TOKENS, limit=prompts, samples=1, label=label,
                        task_options={"ifeval": {"path": source}})
    path = run_eval(cfg).path
    print(f"eval: {label} on IFEval -> {path}", file=sys.stderr)
    return path


def ifeval_report(eval_runs: dict[str, Path], seed: int = 0) -> dict:
    """Per model the four IFEval accuracies; per trained model compare_runs against base on those metrics."""
    from alignsmith.evaluate.compare import compare_runs
    from alignsmith.evaluate.results import load_eval_run
    runs = {label: load_eval_run(path) for label, path in eval_runs.items()}
    accuracy = {label: {m: run.metrics.get(m) for m in METRICS} for label, run in runs.items()}
    base = runs.pop("base")
    gains: dict[str, dict] = {}
    for label, run in runs.items():
        try:
            result = compare_runs(base, run, seed=seed)
        except ValueError as err:  # nothing testable (e.g. a one-prompt slice): say so, never "no change"
            gains[label] = {"note": f"not tested: {err}"}
            continue
        rows = {r["metric"]: {k: r.get(k) for k in _KEPT} for r in result["metrics"] if r["metric"] in METRICS}
        gains[label] = {"shared_prompts": result["shared_items"], "metrics": rows}
    prompts = int((base.items["task"] == "ifeval").sum()) if len(base.items) else 0
    return {"task": "ifeval", "prompts": prompts, "max_tokens": MAX_TOKENS, "decoding": "greedy",
            "accuracy": accuracy, "gain_vs_base": gains}


def _value(entry: dict | None) -> str:
    return "  –  " if not entry or entry.get("value") is None else f"{entry['value']:.3f}"


def print_ifeval(report: dict, total: int | None = None) -> None:
    """The IFEval part of the closing summary: accuracies, then each seed's paired test, p and MDE."""
    of = f" of {total}" if total else ""
    print(f"\nOfficial IFEval, first {report['prompts']}{of} prompts (greedy, ≤ {report['max_tokens']} tokens):")
    print((f"  {'model':<14} " + "  ".join(f"{m.split('/')[1]:<13}" for m in METRICS)).rstrip())
    for label, acc in report["accuracy"].items():
        print((f"  {label:<14} " + "  ".join(f"{_value(acc.get(m)):<13}" for m in METRICS)).rstrip())
    print("Gain over base as `alignsmith compare` tests it (McNemar exact for prompt-level, sign-flip for "
          "instruction-level;\n95% CI, raw p, verdict after Holm over the four; MDE: the smallest gain or loss this "
          "slice detects with 80% power):")
    for label, gain in report["gain_vs_base"].items():
        if "metrics" not in gain:
            print(f"  {label:<14} {gain['note']}")
            continue
        for i, (metric, r) in enumerate(gain["metrics"].items()):
            name = metric.split("/")[1]
            if r["diff"] is None:
                print(f"  {label if i == 0 else '':<14} {name:<13} {r['note']}")
                continue
            mde = "MDE –" if r.get("mde") is None else f"MDE ±{r['mde']:.3f}"
            if r.get("mde") is not None and r["mde"] >= 1:  # wider than any possible change: say it plainly
                mde += " (too few prompts to detect any change)"
            print(f"  {label if i == 0 else '':<14} {name:<13} {r['diff']:+.3f} [{r['ci_low']:+.3f}, "
                  f"{r['ci_high']:+.3f}]  p={r['p_value']:.3f}  {mde}  {r['verdict']}")
