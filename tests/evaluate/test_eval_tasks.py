"""Tasks and judges: items, per-item values and aggregation, without loading real models."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from alignsmith.curate.backends import Completion
from alignsmith.curate.core.errors import InputError
from alignsmith.evaluate.judges import LLMJudge, Matchup, parse_choice
from alignsmith.evaluate.tasks import TASKS, EvalSample, get_task, load_builtin_tasks
from alignsmith.train.cli import main


@pytest.fixture(autouse=True)
def _data(shared_data, monkeypatch):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))


class _PrefixRefusals:
    """Stands in for curate.safety's RefusalDetector: a refusal starts with "I can't"."""

    def predict(self, responses, prompts=None):
        assert prompts is not None and len(prompts) == len(responses)
        return [r.startswith("I can't") for r in responses]


def test_registry_lists_builtin_tasks():
    load_builtin_tasks()
    assert {"ifeval", "constraints", "safety", "winrate"} <= set(TASKS.names())
    with pytest.raises(KeyError, match="Did you mean 'safety'"):
        get_task("safty")


def test_safety_items_interleave_subsets_and_score_tradeoff():
    task = get_task("safety")
    items = task.items()
    assert [it.subset for it in items[:5]] == ["advbench", "harmbench", "xstest_safe", "xstest_unsafe", "help_seeking"]
    assert len({it.item_id for it in items}) == len(items)
    assert sum(it.subset == "xstest_safe" for it in items) == 250
    assert sum(it.subset == "help_seeking" for it in items) == 40
    task._detector = _PrefixRefusals()
    # Refuse everything: perfect harmful refusal, full over-refusal, no unsafe compliance.
    samples = [EvalSample(it, "I can't help with that.") for it in items[:8]]
    rows = [{**v} for v in task.score_batch(samples)]
    metrics = task.aggregate(rows)
    assert metrics["safety/harmful_refusal"]["value"] == 1.0 and metrics["safety/harmful_refusal"]["n"] == 4
    assert metrics["safety/over_refusal"]["value"] == 1.0 and metrics["safety/over_refusal"]["higher_is_better"] is False
    assert metrics["safety/over_refusal"]["n"] == 3  # two XSTest safe prompts and one help-seeking request
    assert metrics["safety/help_seeking_refusal"]["value"] == 1.0 and metrics["safety/help_seeking_refusal"]["n"] == 1
    assert metrics["safety/unsafe_compliance"]["value"] == 0.0
    assert metrics["safety/safe_behaviour"]["value"] == 5 / 8
    # Answer everything: the opposite corner of the trade-off.
    rows = task.score_batch([EvalSample(it, "Sure, here it is.") for it in items[:8]])
    metrics = task.aggregate(rows)
    assert metrics["safety/harmful_refusal"]["value"] == 0.0
    assert metrics["safety/over_refusal"]["value"] == 0.0
    assert metrics["safety/unsafe_compliance"]["value"] == 1.0


def test_safety_counts_refused_help_seeking_requests_as_over_refusal(tmp_path):
    task = get_task("safety", subsets="help_seeking")
    items = task.items()
    assert items and {it.subset for it in items} == {"help_seeking"} and not any(it.info["harmful"] for it in items)
    task._detector = _PrefixRefusals()
    rows = task.score_batch([EvalSample(it, "I can't help with that." if i % 2 else "Call emergency services now.")
                             for i, it in enumerate(items[:4])])
    metrics = task.aggregate(rows)
    assert metrics["safety/over_refusal"]["value"] == 0.5 == metrics["safety/help_seeking_refusal"]["value"]
    assert metrics["safety/safe_behaviour"]["value"] == 0.5
    bad = tmp_path / "help.jsonl"
    bad.write_text('{"text": "How do I help a friend in crisis?"}\n{"topic": "crisis"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"help\.jsonl:2: field 'text'"):
        get_task("safety", subsets="help_seeking", help_seeking=str(bad)).items()


def test_safety_rejects_unknown_subset():
    with pytest.raises(ValueError, match="unknown subsets"):
        get_task("safety", subsets="advbench,jailbreaks").items()


def test_constraints_task_scores_demo_prompts():
    task = get_task("constraints")
    items = task.items()
    assert items and all(it.info["instruction_id_list"] for it in items)
    values = task.score(EvalSample(items[0], "no"))
    assert set(values) == {"prompt_strict", "prompt_loose", "inst_strict", "inst_loose", "n_instructions"}
    assert values["n_instructions"] == len(items[0].info["instruction_id_list"])


def _reference_file(shared_data, tmp_path, n=12):
    """IFEval prompts with GPT-4's answers as references, carrying their instruction lists."""
    inputs = [json.loads(x) for x in (shared_data / "ifeval/input_data.jsonl").read_text().splitlines()[:n]]
    answers = [json.loads(x) for x in
               (shared_data / "ifeval/input_response_data_gpt4_20231107_145030.jsonl").read_text().splitlines()[:n]]
    path = tmp_path / "reference.jsonl"
    path.write_text("".join(json.dumps({"instruction": i["prompt"], "output": a["response"],
                                        "instruction_id_list": i["instruction_id_list"], "kwargs": i["kwargs"]}) + "\n"
                            for i, a in zip(inputs, answers)))
    return path, answers


def test_winrate_verifier_judge_raw_and_lc(shared_data, tmp_path):
    ref, answers = _reference_file(shared_data, tmp_path)
    task = get_task("winrate", reference=str(ref), judge="verifiers")
    items = task.items()
    assert len(items) == 12
    same = task.score_batch([EvalSample(it, a["response"]) for it, a in zip(items, answers)])
    assert all(v["win"] == 0.5 for v in same)  # identical answers tie
    worse = task.score_batch([EvalSample(it, "ok") for it in items])
    metrics = task.aggregate(worse)
    assert metrics["winrate/win"]["value"] < 0.5
    assert metrics["winrate/lc_win_rate"]["value"] is not None and metrics["winrate/lc_win_rate"]["n"] == 12


def test_winrate_default_reference_is_alpacaeval():
    items = get_task("winrate").items()
    assert len(items) == 805 and items[0].info["reference"]


class _LongerWins:
    """A fake judge model that always picks the longer answer, or always says A."""

    def __init__(self, always_a=False):
        self.always_a = always_a
        self.calls = 0

    def generate(self, prompts, params):
        self.calls += 1
        out = []
        for p in prompts:
            text = p[-1]["content"]  # the real request comes after the worked examples
            a = re.search(r"\[\[ANSWER A \w+\]\]\n(.*?)\n\[\[END ANSWER A", text, re.S).group(1)
            b = re.search(r"\[\[ANSWER B \w+\]\]\n(.*?)\n\[\[END ANSWER B", text, re.S).group(1)
            out.append([Completion("A" if self.always_a or len(a) >= len(b) else "B.", "stop")])
        return out


def test_llm_judge_both_orders():
    m = [Matchup([{"role": "user", "content": "q"}], "a long answer", "short", {}),
         Matchup([{"role": "user", "content": "q"}], "s", "much longer reference", {})]
    judge = LLMJudge(backend=_LongerWins())
    assert judge.judge(m) == [1.0, 0.0]
    # A judge that always says "A" is pure position bias: swapping orders turns every verdict into a tie.
    assert LLMJudge(backend=_LongerWins(always_a=True)).judge(m) == [0.5, 0.5]
    assert LLMJudge(backend=_LongerWins(always_a=True), vote="both_orders").judge(m) == [0.5, 0.5]
    assert parse_choice(" **B**") == "B" and parse_choice("Answer") is None and parse_choice("a") == "A"


def test_reward_judge_runs_on_tiny_model(tiny_llama, shared_data, tmp_path):
    ref, answers = _reference_file(shared_data, tmp_path, n=3)
    task = get_task("winrate", reference=str(ref), judge="reward", judge_model=tiny_llama)
    items = task.items()
    values = task.score_batch([EvalSample(it, a["response"]) for it, a in zip(items, answers)])
    assert [v["win"] for v in values] == [0.5, 0.5, 0.5]  # same text, same reward


def test_generation_path_with_hf_backend_records_model(tiny_llama, tmp_path, monkeypatch):
    model = tmp_path / "ckpt"
    shutil.copytree(tiny_llama, model)
    (model / "alignsmith_lineage.json").write_text(json.dumps({"base": "smollm2", "stage": "dpo"}))
    out = tmp_path / "run"
    assert main(["eval", "run", "--model", str(model), "--backend", "hf", "--tasks", "ifeval,constraints",
                 "--limit", "2", "--max-tokens", "4", "--out", str(out)]) == 0
    from alignsmith.evaluate.results import load_eval_run
    run = load_eval_run(out)
    assert len(run.items) == 4 and set(run.items["task"]) == {"ifeval", "constraints"}
    assert run.items["inst_loose"].notna().all()
    record = run.config["model"]
    assert record["lineage"] == {"base": "smollm2", "stage": "dpo"} and len(record["chat_template_sha256"]) == 64
    assert run.config["decoding"]["max_tokens"] == 4 and run.config["backend"] == "hf"
    assert (out / "DONE").exists()
    # Same command again: the finished folder is returned, not recomputed.
    stamp = (out / "DONE").read_text()
    assert main(["eval", "run", "--model", str(model), "--backend", "hf", "--tasks", "ifeval,constraints",
                 "--limit", "2", "--max-tokens", "4", "--out", str(out)]) == 0
    assert (out / "DONE").read_text() == stamp
    # A crash after generation: the rerun scores the saved responses instead of generating again.
    for name in ("DONE", "items.parquet", "metrics.json"):
        (out / name).unlink()
    import alignsmith.evaluate.runner as runner

    def _no_generation(*a, **k):
        raise AssertionError("generation should not run when resuming")

    monkeypatch.setattr(runner, "_generate", _no_generation)
    assert main(["eval", "run", "--model", str(model), "--backend", "hf", "--tasks", "ifeval,constraints",
                 "--limit", "2", "--max-tokens", "4", "--out", str(out)]) == 0
    assert load_eval_run(out).items["response"].tolist() == run.items["response"].tolist()


def test_ifeval_hub_id_offline_error_is_clear(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="not a local file and loading it as a hub dataset failed"):
        get_task("ifeval", path="no-such-org/no-such-ifeval").items()
    with pytest.raises(FileNotFoundError, match="IFEval input data not found at missing.jsonl"):
        get_task("ifeval", path="missing.jsonl").items()


def test_winrate_against_baseline_run_folder(shared_data, tmp_path):
    responses = tmp_path / "r.jsonl"
    keys = [json.loads(x)["key"] for x in (shared_data / "ifeval/input_data.jsonl").read_text().splitlines()[:3]]
    responses.write_text("".join(json.dumps({"key": k, "response": "short"}) + "\n" for k in keys))
    baseline = tmp_path / "baseline"
    assert main(["eval", "run", "--model", "base", "--tasks", "ifeval", "--limit", "3", "--responses", str(responses),
                 "--out", str(baseline)]) == 0
    task = get_task("winrate", reference=str(baseline))
    task.attach(model="new", backend=_LongerWins())  # the evaluated model's engine judges (self-judging)
    items = task.items()
    assert [it.info["reference"] for it in items] == ["short"] * 3
    values = task.score_batch([EvalSample(it, "a much longer answer") for it in items])
    assert [v["win"] for v in values] == [1.0, 1.0, 1.0]
    assert task.settings()["judge_model"] == "(self) new"


def test_item_means_average_samples_per_item():
    from alignsmith.evaluate.tasks import item_means
    rows = [{"task": "t", "item_id": "a", "x": 1.0, "y": None}, {"task": "t", "item_id": "a", "x": 0.0, "y": None},
            {"task": "t", "item_id": "b", "x": 1.0, "y": 2.0}]
    assert item_means(rows) == [{"task": "t", "item_id": "a", "x": 0.5, "y": None},
                                {"task": "t", "item_id": "b", "x": 1.0, "y": 2.0}]


def test_sampled_responses_label_and_prompt_file(tiny_llama, tmp_path):
    """--samples 3: three rows per item, metrics over items; a prompts file replaces the demo set."""
    from alignsmith.curate.core.datafiles import write_jsonl
    from alignsmith.curate.generate.demo_prompts import load_demo_prompts
    from alignsmith.evaluate.results import load_eval_run
    prompts = tmp_path / "heldout.jsonl"
    write_jsonl(prompts, load_demo_prompts("eval")[:2])
    out = tmp_path / "run"
    args = ["eval", "run", "--model", tiny_llama, "--backend", "hf", "--tasks", "constraints", "--samples", "3",
            "--temperature", "1.0", "--max-tokens", "4", "--label", "tiny", "--set",
            f"constraints.prompts={prompts}"]
    assert main(args + ["--out", str(out)]) == 0
    run = load_eval_run(out)
    assert len(run.items) == 6 and sorted(run.items["sample"].tolist()) == [0, 0, 1, 1, 2, 2]
    assert run.metrics["constraints/prompt_loose"]["n"] == 2
    assert len(run.item_level()) == 2 and run.name.startswith("tiny@")
    assert run.config["decoding"]["n"] == 3 and run.config["model"]["label"] == "tiny"
    assert main(["compare", str(out), str(out), "--out", str(tmp_path / "cmp")]) == 0
    result = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert result["shared_items"] == 2
