"""build_pairs end to end: scorers by name, the run folder, datasets loading, the CLI."""
from __future__ import annotations

import json

import pytest

from alignsmith.curate.core.datafiles import write_jsonl
from alignsmith.curate.judges.reward_scorer import NotARewardModelError, RewardModelScorer
from alignsmith.curate.pairs.build import build_pairs
from alignsmith.curate.pairs.export import write_pairs_run
from alignsmith.train.cli import main


@pytest.fixture(scope="module")
def tiny_reward_model(tiny_llama, tmp_path_factory) -> str:
    """A random one-output Llama sequence classifier with SmolLM2's tokenizer (like `train rm` output)."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, LlamaForSequenceClassification
    config = AutoConfig.from_pretrained(tiny_llama)
    config.num_labels = 1
    torch.manual_seed(1)
    model = LlamaForSequenceClassification(config)
    path = tmp_path_factory.mktemp("tiny-rm")
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(tiny_llama).save_pretrained(path)
    return str(path)


def candidate_rows(n_prompts: int = 4, per_prompt: int = 4) -> list[dict]:
    rows = []
    for p in range(n_prompts):
        prompt = [{"role": "user", "content": f"Write about topic {p} without commas."}]
        for c in range(per_prompt):
            text = f"Topic {p} answer {c}: " + ("plain words here " * (c + 1)) + (", with, commas" if c % 2 else "")
            rows.append({"prompt_id": f"p{p}", "candidate_id": f"p{p}-c{c}", "prompt": prompt, "response": text,
                         "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}],
                         "category": "even" if p % 2 == 0 else "odd", "scores": {"fixed": float(c)}})
    return rows


def test_reward_scorer_batches_match_single_rows(tiny_reward_model):
    rows = candidate_rows(2, 3)
    batched = RewardModelScorer(model=tiny_reward_model, batch_size=6).score_batch(rows)
    single = RewardModelScorer(model=tiny_reward_model, batch_size=1).score_batch(rows)
    assert batched == pytest.approx(single, abs=1e-4)
    assert len(set(round(s, 6) for s in batched)) > 1  # the texts matter


def test_reward_scorer_refuses_a_causal_lm_clearly(tiny_llama):
    with pytest.raises(NotARewardModelError, match="not a reward model.*ForSequenceClassification"):
        RewardModelScorer(model=tiny_llama)


def test_reward_scorer_refuses_multi_label_classifiers(tiny_reward_model, tmp_path):
    import shutil
    folder = tmp_path / "two"
    shutil.copytree(tiny_reward_model, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["id2label"] = {"0": "a", "1": "b"}
    cfg.pop("num_labels", None)
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(NotARewardModelError, match="num_labels=2"):
        RewardModelScorer(model=str(folder))


def test_scorers_by_name_combine_with_weights(tiny_reward_model):
    config = {"scorers": {"verifiers": {"weight": 2.0}, "reward_model": {"model": tiny_reward_model, "weight": 0.5}},
              "strategy": "best_vs_worst", "max_chosen_longer_share": None}
    result = build_pairs(candidate_rows(), None, config)
    for cand in result.candidates:
        s = cand["scores"]
        assert s["verifiers"] in (0.0, 1.0) and "reward_model" in s
        assert cand["score"] == pytest.approx(2.0 * s["verifiers"] + 0.5 * s["reward_model"])
        assert s["verifiers"] == (0.0 if "," in cand["response"] else 1.0)
    assert result.pairs and all("," not in p["chosen"][0]["content"] for p in result.pairs)


def test_existing_scores_are_reused_not_recomputed():
    rows = candidate_rows()
    for r in rows:
        r["scores"]["verifiers"] = 0.25  # a value the verifier would never give
    result = build_pairs(rows, None, {"scorers": {"verifiers": {}}, "weights": {"verifiers": 1, "fixed": 1}})
    assert all(c["scores"]["verifiers"] == 0.25 for c in result.candidates)


def test_run_folder_loads_with_datasets_as_is(tmp_path):
    from datasets import load_dataset
    result = build_pairs(candidate_rows(), None, {"scorers": {}, "weights": {"fixed": 1.0},
                                                  "strategy": "all_above_margin", "min_margin": 1.0,
                                                  "max_chosen_longer_share": None})
    run = write_pairs_run(result, tmp_path / "out")
    assert run.done
    dpo = load_dataset("parquet", data_files=str(run.file("dpo.parquet")), split="train")
    assert {"prompt", "chosen", "rejected", "prompt_id", "chosen_id", "rejected_id", "chosen_score",
            "rejected_score", "margin", "strategy"} <= set(dpo.column_names)
    assert dpo[0]["chosen"][0]["role"] == "assistant" and dpo[0]["prompt"][0]["role"] == "user"
    sft = load_dataset("parquet", data_files=str(run.file("sft.parquet")), split="train")
    assert len(sft) == 4 and {"prompt", "completion"} <= set(sft.column_names)
    prompts = load_dataset("parquet", data_files=str(run.file("prompts.parquet")), split="train")
    assert prompts[0]["instruction_id_list"] == ["punctuation:no_comma"]
    card = json.loads(run.file("card.json").read_text())
    assert card["stages"]["pairs_out"] == len(dpo) and card["per_category"]["even"]["prompts"] == 2
    assert sum(b["count"] for b in card["margin_histogram"]) == len(dpo)
    assert "## Counts through each stage" in run.file("card.md").read_text()


def test_cli_writes_the_run_folder(tmp_path, capsys):
    src = tmp_path / "cands.jsonl"
    write_jsonl(src, candidate_rows())
    cfg = tmp_path / "pairs.yaml"
    cfg.write_text("pairs:\n  scorers: {}\n  weights: {fixed: 1.0}\n  max_pairs_per_prompt: 2\n")
    out = tmp_path / "run"
    code = main(["pairs", "--input", str(src), "--config", str(cfg), "--out", str(out),
                 "--strategy", "all_above_margin", "--set", "min_margin=2",
                 "--set", "max_chosen_longer_share=null"])
    assert code == 0, capsys.readouterr().err
    for name in ("dpo.parquet", "sft.parquet", "prompts.parquet", "card.md", "card.json", "DONE"):
        assert (out / name).exists(), name
    card = json.loads((out / "card.json").read_text())
    assert card["config"]["min_margin"] == 2 and card["stages"]["pairs_out"] == 4 * 2


def test_cli_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["pairs", "--input", str(tmp_path)]) == 2
    assert "kept.parquet" in capsys.readouterr().err
    src = tmp_path / "c.jsonl"
    write_jsonl(src, candidate_rows(1, 2))
    assert main(["pairs", "--input", str(src), "--set", "strategy=best_vs_wrst", "--set", "scorers={}",
                 "--set", "weights={fixed: 1}"]) == 2
    assert "best_vs_worst" in capsys.readouterr().err


def test_push_to_hub_offline_is_a_clear_error(tmp_path, capsys):
    src = tmp_path / "c.jsonl"
    write_jsonl(src, candidate_rows(1, 2))
    code = main(["pairs", "--input", str(src), "--out", str(tmp_path / "o"), "--set", "scorers={}",
                 "--set", "weights={fixed: 1}", "--push-to-hub", "me/pairs"])
    assert code == 2
    assert "HF_HUB_OFFLINE" in capsys.readouterr().err
    assert (tmp_path / "o" / "DONE").exists()  # the local outputs are complete regardless


def test_cli_reads_a_finished_curate_run_folder(tmp_path, capsys):
    from alignsmith.curate.core.datafiles import write_parquet
    curated = tmp_path / "curate-run"
    rows = candidate_rows()
    for r in rows:
        r["kwargs"] = [{"num": 1}]  # Parquet cannot store all-empty dicts; a real constraint argument
    write_parquet(curated / "kept.parquet", rows)
    args = ["pairs", "--input", str(curated), "--out", str(tmp_path / "o"), "--set", "scorers={}",
            "--set", "weights={fixed: 1}", "--set", "max_chosen_longer_share=null"]
    assert main(args) == 2 and "unfinished" in capsys.readouterr().err
    (curated / "DONE").write_text("x")
    assert main(args) == 0
    assert "4 prompts -> 4 pairs" in capsys.readouterr().out


def test_prompt_rows_join_bare_candidates_and_unknown_prompts_are_named():
    from alignsmith.curate.core.errors import InputError
    from alignsmith.curate.core.records import make_prompt_row
    prompt = make_prompt_row("Say hi without commas.", instruction_id_list=["punctuation:no_comma"], kwargs=[{}],
                             category="greeting")
    bare = [{"prompt_id": prompt["prompt_id"], "candidate_id": f"c{i}", "response": text}
            for i, text in enumerate(["hi there friend", "Well, hello, my good old pal!"])]
    result = build_pairs(bare, [prompt], {"scorers": {"verifiers": {}}, "max_chosen_longer_share": None})
    (pair,) = result.pairs
    assert pair["chosen_id"] == "c0" and pair["prompt"] == prompt["prompt"] and pair["category"] == "greeting"
    assert result.prompts[0]["instruction_id_list"] == ["punctuation:no_comma"]
    with pytest.raises(InputError, match="candidate rows:1: field .prompt_id."):
        build_pairs([{**bare[0], "prompt_id": "p-missing"}], [prompt], {"scorers": {"verifiers": {}}})


def test_outputs_load_in_the_training_stage_without_conversion(tmp_path):
    data = pytest.importorskip("alignsmith.train.data")
    rows = candidate_rows()  # IFEval-style kwargs [{}]: stored as nulls, read back as {}
    result = build_pairs(rows, None, {"scorers": {}, "weights": {"fixed": 1.0}, "max_chosen_longer_share": None})
    run = write_pairs_run(result, tmp_path / "run")
    for method, n in (("dpo", 4), ("rm", 4), ("sft", 4), ("grpo", 4)):
        loaded, info = data.load_training_rows(str(run.path), method, need_verifier_columns=method == "grpo")
        assert len(loaded) == n and info.card  # the dataset card travels into training lineage
        if method == "grpo":
            assert json.loads(loaded[0]["constraint_kwargs"]) == [{}]
    data.to_dataset(data.load_training_rows(str(run.path), "dpo")[0])


def test_print_config_round_trips_as_a_config_file(tmp_path, capsys):
    assert main(["pairs", "--print-config", "--strategy", "all_above_margin"]) == 0
    text = capsys.readouterr().out
    (tmp_path / "pairs.yaml").write_text(text)
    assert main(["pairs", "--print-config", "--config", str(tmp_path / "pairs.yaml")]) == 0
    assert capsys.readouterr().out == text and "strategy: all_above_margin" in text
