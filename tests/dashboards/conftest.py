"""A fixture runs folder for the dashboard, built with the real stage APIs on real public data.

- eval: `run_eval` (alignsmith.evaluate.runner) scoring IFEval responses: GPT-4's published answers and
  two degraded variants (one carries an XSS payload); safety runs score AdvBench + XSTest items with the
  task's own scoring and aggregation, refusals taken from XSTest's human labels (the refusal detector
  is not needed to test the dashboard);
- pairs: `build_pairs` + `write_pairs_run` over GPT-4 and degraded candidates for IFEval prompts;
- curate: `alignsmith curate` with its default filters over GPT-4 answers and broken copies of them;
- compare: `alignsmith compare` of the regressed IFEval run against GPT-4's;
- train: `train_evals.jsonl` written with the eval callback's `append_eval`.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"> **bold** ![img](x)'
N_IFEVAL = 30
N_SAFETY = 40


def _gpt4_ifeval(shared: Path, n: int) -> list[dict]:
    rows = [json.loads(line) for line in
            (shared / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl").read_text().splitlines()]
    return rows[:n]


def _degrade(rows: list[dict], every: int, how) -> list[dict]:
    return [{**r, "response": how(r["response"]) if i % every == 0 else r["response"]} for i, r in enumerate(rows)]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _ifeval_runs(root: Path, shared: Path, tmp: Path) -> None:
    from alignsmith.evaluate.runner import EvalRunConfig, run_eval
    gpt4 = _gpt4_ifeval(shared, N_IFEVAL)
    variants = {
        "gpt4-reference": gpt4,
        "sft-step-100": _degrade(gpt4, 3, lambda t: t.upper()),
        # The regression run: shortened answers, and item 0's answer is an XSS payload.
        "dpo-step-200": [{**r, "response": XSS} if i == 0 else r for i, r in
                         enumerate(_degrade(gpt4, 2, lambda t: t[: len(t) // 4]))],
    }
    for k, (model, rows) in enumerate(variants.items()):
        responses = _write_jsonl(tmp / f"{model}.jsonl", [{"prompt": r["prompt"], "response": r["response"]}
                                                          for r in rows])
        run_eval(EvalRunConfig(model=model, tasks=["ifeval"], responses=str(responses), limit=N_IFEVAL,
                               task_options={"ifeval": {"path": str(shared / "ifeval" / "input_data.jsonl")}}),
                 out=str(root / "eval" / f"20260101T00000{k}Z-{model}"))


def _xstest_refusals(shared: Path) -> dict[str, bool]:
    with open(shared / "xstest" / "xstest_v2_completions_gpt4.csv", newline="", encoding="utf-8") as f:
        return {r["prompt"]: r["final_label"] != "1_full_compliance" and "compliance" not in r["final_label"]
                for r in csv.DictReader(f)}


def _safety_runs(root: Path, shared: Path) -> None:
    """Safety runs laid out as run_eval writes them; refusals from policies applied to real items."""
    from alignsmith.curate.core.runs import RunFolder
    from alignsmith.evaluate.runner import EvalRunConfig, _item_row, run_config
    from alignsmith.evaluate.task_safety import SafetyTask
    from alignsmith.evaluate.tasks import EvalSample
    task = SafetyTask(subsets="advbench,xstest", advbench=str(shared / "advbench" / "harmful_behaviors.csv"),
                      xstest=str(shared / "xstest" / "xstest_prompts.csv"))
    items = task.items()[:N_SAFETY]
    human = _xstest_refusals(shared)
    policies = {  # name -> refused(item index, item)
        "gpt4-reference": lambda i, it: human.get(it.prompt[-1]["content"], bool(it.info.get("harmful"))),
        "refuses-everything": lambda i, it: True,
        "dpo-step-200": lambda i, it: bool(it.info.get("harmful")) and i % 4 != 0,
    }
    for k, (model, refused) in enumerate(policies.items()):
        config = run_config(EvalRunConfig(model=model, tasks=["safety"]), {"safety": task})
        config["responses"] = {"path": f"policy:{model}"}
        run = RunFolder.open("eval", config, out=root / "eval" / f"20260102T00000{k}Z-safety-{model}")
        rows = []
        for i, it in enumerate(items):
            r = refused(i, it)
            text = "I'm sorry, but I can't help with that." if r else (XSS if i < 2 else f"Sure: {i}.")
            rows.append(_item_row(task, EvalSample(it, text), SafetyTask._values(EvalSample(it, text), r)))
        run.write_rows("items", rows)
        run.write_metrics(task.aggregate(rows, seed=0))
        run.mark_done()


def _pairs_run(root: Path, shared: Path) -> None:
    from alignsmith.curate.core.records import candidate_id, make_prompt_row
    from alignsmith.curate.pairs.build import build_pairs
    from alignsmith.curate.pairs.export import write_pairs_run
    inputs = {json.loads(x)["prompt"]: json.loads(x) for x in
              (shared / "ifeval" / "input_data.jsonl").read_text().splitlines()}
    prompts, candidates = [], []
    for r in _gpt4_ifeval(shared, 24):
        src = inputs[r["prompt"]]
        p = make_prompt_row(r["prompt"], instruction_id_list=src["instruction_id_list"], kwargs=src["kwargs"],
                            category="ifeval", source="ifeval")
        prompts.append(p)
        texts = [r["response"], r["response"].upper(), r["response"][: len(r["response"]) // 3], XSS]
        for j, text in enumerate(texts):
            candidates.append({"prompt_id": p["prompt_id"], "candidate_id": candidate_id(p["prompt_id"], j, "m", 0),
                               "response": text, "model": "m", "finish_reason": "stop"})
    result = build_pairs(candidates, prompts, {"scorers": {"verifiers": {}}, "max_chosen_longer_share": None})
    write_pairs_run(result, out=root / "pairs" / "20260103T000000Z-pairs")


def _curate_run(root: Path, shared: Path, tmp: Path) -> None:
    """`alignsmith curate` (default filters) over GPT-4's IFEval answers plus empty and truncated copies."""
    from alignsmith.train.cli import main
    rows = []
    for i, r in enumerate(_gpt4_ifeval(shared, 20)):
        rows.append({"prompt": r["prompt"], "response": r["response"], "finish_reason": "stop"})
        if i % 2 == 0:
            rows.append({"prompt": r["prompt"], "response": "", "finish_reason": "stop"})
        if i % 3 == 0:
            rows.append({"prompt": r["prompt"], "response": r["response"][:50], "finish_reason": "length"})
    source = _write_jsonl(tmp / "curate_input.jsonl", rows)
    assert main(["curate", "--input", str(source), "--out", str(root / "curate" / "20260104T000000Z-c")]) == 0


def _compare_run(root: Path) -> None:
    """`alignsmith compare` of the regressed IFEval run against GPT-4's (exit 1: it regressed)."""
    from alignsmith.train.cli import main
    base = next(p for p in (root / "eval").iterdir() if p.name.endswith("Z-gpt4-reference"))
    new = next(p for p in (root / "eval").iterdir() if p.name.endswith("Z-dpo-step-200"))
    assert main(["compare", str(base), str(new), "--out", str(root / "compare" / "20260106T000000Z-cmp")]) == 1


def _train_run(root: Path) -> None:
    """A training run folder with eval-during-training records written by the eval callback's own writer."""
    from alignsmith.curate.core.runs import RunFolder
    from alignsmith.train.eval_callback import append_eval
    run = RunFolder.open("train-dpo", {"method": "dpo"}, out=root / "train-dpo" / "20260105T000000Z-t")
    for step, acc in ((10, 0.25), (20, 0.375), (30, 0.5), (40, 0.625)):
        append_eval(run.path, {"step": step, "epoch": step / 40, "checkpoint": str(run.path / f"checkpoint-{step}"),
                               "n_prompts": 8, "prompt_accuracy": acc, "instruction_accuracy": acc + 0.05})
    run.mark_done()


def _demo_run(root: Path) -> None:
    """A demo summary.json as `alignsmith demo` writes it, pointing at this folder's stage runs."""
    from alignsmith.curate.core.datafiles import write_json
    evals = {p.name.split("Z-", 1)[1]: str(p) for p in sorted((root / "eval").iterdir()) if "safety" not in p.name}
    summary = {"generate_run": None, "curate_run": str(root / "curate" / "20260104T000000Z-c"),
               "pairs_run": str(root / "pairs" / "20260103T000000Z-pairs"),
               "train_runs": [str(root / "train-dpo" / "20260105T000000Z-t")], "eval_runs": evals,
               "report": {"metric": "constraints/prompt_strict",
                          "accuracy": {"base": {"value": 0.4, "ci_low": 0.3, "ci_high": 0.5, "prompts": 16},
                                       "dpo seed 0": {"value": 0.55, "ci_low": 0.45, "ci_high": 0.65,
                                                      "prompts": 16}},
                          "win_rate_vs_base": {"dpo seed 0": {"value": 0.62, "ci_low": 0.5, "ci_high": 0.74,
                                                              "prompts": 16}}}}
    write_json(root / "demo" / "20260107T000000Z" / "summary.json", summary)
    (root / "demo" / "20260107T000000Z" / "DONE").write_text("20260107T000000Z\n")


@pytest.fixture(scope="session")
def dashboard_runs(shared_data, tmp_path_factory) -> Path:
    """A runs folder with eval (IFEval, safety), pairs, curate and training runs."""
    root = tmp_path_factory.mktemp("dashboard") / "runs"
    tmp = tmp_path_factory.mktemp("responses")
    _ifeval_runs(root, shared_data, tmp)
    _safety_runs(root, shared_data)
    _pairs_run(root, shared_data)
    _curate_run(root, shared_data, tmp)
    _train_run(root)
    _compare_run(root)
    _demo_run(root)
    return root
