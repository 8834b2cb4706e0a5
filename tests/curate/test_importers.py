"""`alignsmith data import`: real HH-RLHF, AlpacaEval and Self-Instruct files, hand-written ShareGPT, OpenAI and
UltraFeedback files with malformed rows; the run folder is read by the training data loader as is."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from alignsmith.curate.core.datafiles import read_parquet
from alignsmith.curate.core.errors import InputError
from alignsmith.curate.importers.run import import_dataset
from alignsmith.train.data import load_training_rows, to_dataset

SAMPLES = Path(__file__).parent / "import_samples"


def _reasons(result) -> dict[int, str]:
    return {q["line"]: q["drop_reason"] for q in result.quarantine}


def test_hh_rlhf_real_file_gives_pairs_with_context(shared_data, tmp_path):
    src = shared_data / "hh_rlhf" / "helpful-base" / "test.jsonl.gz"
    result = import_dataset(src, "auto", tmp_path / "hh")
    assert result.format == "hh-rlhf" and result.rows_read == 2354
    # Every row is either a pair or quarantined with a reason: nothing disappears.
    assert len(result.pairs) + len(result.quarantine) == 2354 and len(result.pairs) > 2300
    assert all(q["drop_reason"].startswith("import: ") and q["raw"] for q in result.quarantine)
    first = result.pairs[0]
    assert first["prompt"] == [{"role": "user", "content": "Do you know why turkeys became the official food "
                                                           "of thanksgiving?"}]
    assert first["chosen"][0]["content"].startswith("To be honest, I don’t know anything about that.")
    assert first["rejected"][0]["content"].startswith("I know that the American Indians")
    # Multi-turn dialogues keep the earlier turns (alternating user/assistant) as the prompt.
    multi = next(p for p in result.pairs if len(p["prompt"]) >= 3)
    assert [m["role"] for m in multi["prompt"]][:3] == ["user", "assistant", "user"]
    assert multi["prompt"][-1]["role"] == "user"
    folder = tmp_path / "hh"
    assert (folder / "DONE").exists() and len(read_parquet(folder / "quarantine.parquet")) == len(result.quarantine)
    card = json.loads((folder / "card.json").read_text())
    assert card["skipped"] == len(result.quarantine) and sum(card["skipped_by_reason"].values()) == card["skipped"]


def test_hh_rlhf_agrees_with_trl_extract_prompt(shared_data, tmp_path):
    """Reference: TRL's extract_prompt (longest common prefix of the raw dialogues), cut at the last Assistant
    marker, must give the same kept rows and the same final replies as our turn parser."""
    import gzip

    from trl.data_utils import extract_prompt
    src = shared_data / "hh_rlhf" / "helpful-base" / "test.jsonl.gz"
    marker = "\n\nAssistant:"
    expected = {}
    for line, text in enumerate(gzip.open(src, "rt", encoding="utf-8"), 1):
        row = json.loads(text)
        common = extract_prompt({"chosen": row["chosen"], "rejected": row["rejected"]})["prompt"]
        prompt = common[:common.rfind(marker) + len(marker)] if marker in common else None
        if prompt is None:
            continue
        replies = [row[k][len(prompt):] for k in ("chosen", "rejected")]
        if any("\n\nHuman:" in r or marker in r or not r.strip() for r in replies):
            continue
        if replies[0].strip() != replies[1].strip():
            expected[line] = [r.strip() for r in replies]
    result = import_dataset(src, "hh-rlhf", tmp_path / "hh")
    ours = {p["line"]: [p["chosen"][0]["content"], p["rejected"][0]["content"]] for p in result.pairs}
    assert ours == expected


def test_hh_rlhf_row_problems_are_named(tmp_path):
    src = tmp_path / "hh.jsonl"
    rows = [{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Hi\n\nAssistant: Go away."},
            {"chosen": "\n\nHuman: Hi\n\nAssistant: Same", "rejected": "\n\nHuman: Hi\n\nAssistant: Same"},
            {"chosen": "\n\nHuman: A\n\nAssistant: x", "rejected": "\n\nHuman: B\n\nAssistant: y"},
            {"chosen": "no markers at all", "rejected": "\n\nHuman: Hi\n\nAssistant: y"},
            {"chosen": "\n\nHuman: Hi\n\nAssistant: ok"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = import_dataset(src, "hh-rlhf", tmp_path / "run")
    reasons = _reasons(result)
    assert len(result.pairs) == 1 and set(reasons) == {2, 3, 4, 5}
    assert "identical" in reasons[2] and "differ before their final Assistant turn" in reasons[3]
    assert reasons[4].startswith("import: chosen: ") and reasons[5] == "import: rejected: missing"
    with pytest.raises(InputError) as err:
        import_dataset(src, "hh-rlhf", tmp_path / "strict", strict=True)
    assert f"{src}:2: field 'rejected'" in str(err.value)
    assert not (tmp_path / "strict").exists()  # strict failure leaves no folder that could look finished


def test_gzipped_jsonl_bad_line_is_quarantined_not_fatal(tmp_path):
    import gzip
    src = tmp_path / "hh.jsonl.gz"
    good = json.dumps({"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Hi\n\nAssistant: No."})
    with gzip.open(src, "wt", encoding="utf-8") as f:
        f.write(good + "\n" + '{"chosen": "cut off\n' + good + "\n")
    result = import_dataset(src, "auto", tmp_path / "run")
    assert len(result.pairs) == 2 and [q["line"] for q in result.quarantine] == [2]
    assert result.quarantine[0]["drop_reason"].startswith("import: line 2: malformed JSON")


def test_import_run_loads_for_train_sft_and_dpo(shared_data, tmp_path):
    run = tmp_path / "hh"
    import_dataset(shared_data / "hh_rlhf" / "harmless-base" / "test.jsonl.gz", "hh-rlhf", run)
    dpo_rows, info = load_training_rows(str(run), "dpo", max_rows=8)
    assert info.path.endswith("dpo.parquet") and info.card and info.card.endswith("card.md")
    assert set(dpo_rows[0]) == {"prompt", "chosen", "rejected"} and dpo_rows[0]["chosen"][0]["role"] == "assistant"
    sft_rows, info = load_training_rows(str(run), "sft", max_rows=8)
    assert info.path.endswith("sft.parquet") and sft_rows[0]["completion"][0]["role"] == "assistant"
    assert len(to_dataset(dpo_rows)) == 8 and len(to_dataset(sft_rows)) == 8
    # A prompts-only import (AlpacaEval's instruction set) has no SFT file, and train says what is there.
    prompts_run = tmp_path / "prompts"
    import_dataset(shared_data / "alpaca_eval" / "alpaca_eval_805_prompts.jsonl", "alpaca", prompts_run)
    with pytest.raises(InputError, match="none of sft.parquet"):
        load_training_rows(str(prompts_run), "sft")
    from alignsmith.curate.generate.prompts import load_prompts
    prompts, bad = load_prompts(prompts_run / "prompts.parquet")  # what `generate --prompts` reads
    assert len(prompts) == 805 and not bad


def test_alpaca_template_matches_the_published_prompt():
    """The Stanford Alpaca prompt as published in tatsu-lab/stanford_alpaca's train.py (PROMPT_DICT)."""
    from alignsmith.curate.generate.alpaca_template import join_instruction_input
    published_input = ("Below is an instruction that describes a task, paired with an input that provides further "
                       "context. Write a response that appropriately completes the request.\n\n"
                       "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:")
    published_no_input = ("Below is an instruction that describes a task. Write a response that appropriately "
                          "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:")
    assert join_instruction_input("Add.", "2 and 3", "template") == \
        published_input.format(instruction="Add.", input="2 and 3")
    assert join_instruction_input("Add.", "  ", "template") == published_no_input.format(instruction="Add.")
    with pytest.raises(ValueError, match="newline, template"):
        join_instruction_input("Add.", "", "chatml")


def test_alpacaeval_outputs_and_seed_tasks(shared_data, tmp_path):
    result = import_dataset(shared_data / "alpaca_eval" / "text_davinci_003_model_outputs.json", "auto",
                            tmp_path / "ae")
    assert result.format == "alpaca" and result.rows_read == 805
    assert len(result.sft) + len(result.quarantine) == 805
    assert all("output: is empty" in q["drop_reason"] for q in result.quarantine)
    assert result.sft[0]["generator"] == "text_davinci_003" and result.sft[0]["category"] == "helpful_base"
    seeds = import_dataset(shared_data / "stanford_alpaca" / "seed_tasks.jsonl", "auto", tmp_path / "seed")
    raw = [json.loads(line) for line in (shared_data / "stanford_alpaca" / "seed_tasks.jsonl").open()]
    assert len(seeds.sft) == sum(len(r["instances"]) for r in raw)
    with_input = next(r for r in raw if r["instances"][0]["input"].strip())
    row = next(s for s in seeds.sft if s["id"] == with_input["id"])
    assert row["prompt"][0]["content"] == f"{with_input['instruction']}\n\n{with_input['instances'][0]['input']}"
    assert row["input_joined"] is True
    template = import_dataset(shared_data / "stanford_alpaca" / "seed_tasks.jsonl", "alpaca", tmp_path / "tpl",
                              options={"alpaca_join": "template"})
    text = next(s for s in template.sft if s["id"] == with_input["id"])["prompt"][0]["content"]
    assert "### Instruction:\n" + with_input["instruction"] + "\n\n### Input:\n" in text
    assert text.endswith("### Response:")
    import yaml
    assert yaml.safe_load((tmp_path / "tpl" / "config.yaml").read_text())["options"]["alpaca_join"] == "template"


def test_alpaca_malformed_rows_are_quarantined_with_field(tmp_path):
    result = import_dataset(SAMPLES / "alpaca_bad.json", "alpaca", tmp_path / "a")
    assert len(result.sft) == 2 and result.sft[0]["prompt"][0]["content"] == \
        "Summarise the text.\n\nThe cat sat on the mat. It was warm."
    assert result.sft[1]["prompt"][0]["content"] == "List two fruits."  # empty input adds nothing
    assert _reasons(result) == {3: "import: instruction: is int, expected text",
                                4: "import: input: is list, expected text",
                                5: "import: instruction: missing"}


def test_sharegpt_multi_turn_and_malformed(tmp_path):
    result = import_dataset(SAMPLES / "sharegpt.jsonl", "auto", tmp_path / "sg")
    assert result.format == "sharegpt"
    by_id = {r["id"]: r for r in result.sft}
    assert by_id["sg-2"]["prompt"] == [
        {"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4."}, {"role": "user", "content": "And times 3?"}]
    assert by_id["sg-2"]["completion"] == [{"role": "assistant", "content": "12."}]
    assert "sg-6" not in by_id and any(p.get("id") == "sg-6" for p in result.prompts)  # no reply: prompt only
    reasons = _reasons(result)
    assert reasons[3].startswith("import: conversations[1].from: unknown speaker 'robot'")
    assert reasons[4] == "import: conversations[1].value: is empty"
    assert reasons[5].startswith("import: conversations: must be a non-empty list")
    assert "no user turn" in reasons[7] and "malformed JSON" in reasons[8]
    every = import_dataset(SAMPLES / "sharegpt.jsonl", "sharegpt", tmp_path / "all", options={"turns": "all"})
    replies = [r["completion"][0]["content"] for r in every.sft if r["id"] == "sg-2"]
    assert replies == ["4.", "12."]


def test_openai_messages_and_preferences(tmp_path):
    result = import_dataset(SAMPLES / "openai.jsonl", "auto", tmp_path / "oa")
    assert result.format == "openai"
    assert result.sft[1]["prompt"] == [{"role": "user", "content": "Translate 'cat' to French."}]
    assert len(result.pairs) == 1 and result.pairs[0]["rejected"] == [{"role": "assistant", "content": "Yes."}]
    reasons = _reasons(result)
    assert set(reasons) == {3, 4, 6, 7}
    assert reasons[3] == "import: messages[1].content: is missing"
    assert "only text parts" in reasons[4] and "identical" in reasons[6]
    assert reasons[7].startswith("import: messages: must be a non-empty list")


def test_ultrafeedback_ratings_go_through_pair_rules(tmp_path):
    result = import_dataset(SAMPLES / "ultrafeedback.jsonl", "auto", tmp_path / "uf",
                            pairs_overrides={"strategy": "best_vs_worst", "max_chosen_longer_share": None})
    assert result.format == "ultrafeedback"
    assert [p["chosen"][0]["content"] for p in result.pairs] == [
        "Soft rain on the roof, a quiet drumming all night, puddles hold the sky.", "Paris is the capital of France."]
    assert result.pairs[0]["rejected"][0]["content"] == "Rain is wet." and result.pairs[0]["margin"] == 2.75
    assert _reasons(result) == {4: "import: completions[0].fine-grained_score: rating 'high' is not a number",
                                5: "import: instruction: is empty"}
    folder = tmp_path / "uf"
    dropped = read_parquet(folder / "dropped_pairs.parquet")
    assert [d["drop_reason"].split(":")[0] for d in dropped] == ["tie"]
    unrated = read_parquet(folder / "dropped_candidates.parquet")
    assert len(unrated) == 1 and unrated[0]["response"] == "I cannot write poems."
    assert len(result.sft) == 3  # the best completion of each prompt, ties included
    card = json.loads((folder / "card.json").read_text())
    assert [(s["step"], s["dropped"]) for s in card["pairs_card"]["pairs_funnel"]] == [("tie", 1)]
    # The default length-balance cap is applied too: both pairs have the longer answer chosen, so both go.
    capped = import_dataset(SAMPLES / "ultrafeedback.jsonl", "ultrafeedback", tmp_path / "cap",
                            pairs_overrides={"strategy": "best_vs_worst"})
    assert capped.pairs == [] and not (tmp_path / "cap" / "dpo.parquet").exists()
    assert capped.pairs_stats["pairs_out"] == 0
    mean = import_dataset(SAMPLES / "ultrafeedback.jsonl", "ultrafeedback", tmp_path / "mean",
                          options={"rating": "mean_aspects"})
    assert len(mean.sft) == 1  # only the capital-of-France row has aspect ratings


def test_ultrafeedback_binarized_rows_pair_through_the_rules(tmp_path):
    result = import_dataset(SAMPLES / "ultrafeedback_binarized.jsonl", "auto", tmp_path / "ufb",
                            pairs_overrides={"max_chosen_longer_share": None})
    assert result.format == "ultrafeedback"
    assert len(result.pairs) == 1 and result.pairs[0]["prompt"] == [{"role": "user", "content": "Name a planet."}]
    assert result.pairs[0]["margin"] == 7.0 and result.pairs[0]["rejected"][0]["content"] == "The Moon."
    dropped = read_parquet(tmp_path / "ufb" / "dropped_pairs.parquet")
    assert [d["drop_reason"].split(":")[0] for d in dropped] == ["tie"]          # 5.0 vs 5.0
    assert "differ before their final reply" in _reasons(result)[3]


def test_unknown_format_and_cli_exit_codes(tmp_path, capsys):
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"question": "q", "answer": "a"}\n')
    with pytest.raises(InputError, match="cannot tell the format .*question, answer"):
        import_dataset(odd, "auto", tmp_path / "x")
    from alignsmith.train.cli import main
    assert main(["data", "import", "--input", str(SAMPLES / "sharegpt.jsonl"), "--format", "sharegpt",
                 "--strict", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert f"{SAMPLES / 'sharegpt.jsonl'}:3: field 'conversations[1].from': unknown speaker 'robot'" in err
    assert main(["data", "import", "--input", str(SAMPLES / "openai.jsonl"), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "import (openai): 7 rows read" in out and "4 rows skipped" in out
    done = (tmp_path / "o" / "DONE").stat().st_mtime_ns
    assert main(["data", "import", "--input", str(SAMPLES / "openai.jsonl"), "--out", str(tmp_path / "o")]) == 0
    assert "already imported" in capsys.readouterr().out and (tmp_path / "o" / "DONE").stat().st_mtime_ns == done
    # Other options on the same folder are refused rather than mixed into it.
    assert main(["data", "import", "--input", str(SAMPLES / "openai.jsonl"), "--turns", "all",
                 "--out", str(tmp_path / "o")]) == 2
    assert "different config" in capsys.readouterr().err


def test_prompt_loader_joins_alpaca_input(tmp_path):
    from alignsmith.curate.generate.prompts import load_prompts
    src = tmp_path / "alpaca.jsonl"
    src.write_text(json.dumps({"instruction": "Sort these numbers.", "input": "3, 1, 2"}) + "\n"
                   + json.dumps({"instruction": "Say hi.", "input": ""}) + "\n"
                   + json.dumps({"instruction": "Bad.", "input": 7}) + "\n")
    rows, bad = load_prompts(src, quarantine=True)
    assert rows[0]["prompt"][0]["content"] == "Sort these numbers.\n\n3, 1, 2"
    assert rows[0]["input_joined"] == "newline" and "input_joined" not in rows[1]
    assert rows[1]["prompt"][0]["content"] == "Say hi."
    assert len(bad) == 1 and "field 'input'" in bad[0]["drop_reason"]


@pytest.mark.slow  # ~20 s: two real TRL runs
def test_cli_import_then_train_dpo_and_sft_on_it(shared_data, tiny_llama, tmp_path, capsys):
    """The import run folder goes straight into real TRL training (tiny model, one step each)."""
    from alignsmith.train.cli import main
    run = tmp_path / "hh"
    assert main(["data", "import", "--format", "hh-rlhf", "--input",
                 str(shared_data / "hh_rlhf" / "helpful-base" / "test.jsonl.gz"), "--out", str(run)]) == 0
    for method in ("dpo", "sft"):
        assert main(["train", method, "--preset", "cpu-smoke", "--model", tiny_llama, "--dataset", str(run),
                     "--out", str(tmp_path / method), "--max_rows", "4", "--trl.max_steps", "1",
                     "--trl.save_strategy", "no", "--trl.max_length", "128"]) == 0
        lineage = json.loads((tmp_path / method / "final" / "alignsmith_lineage.json").read_text())
        assert lineage["dataset"]["path"] == str(run / f"{method}.parquet")
        assert lineage["dataset"]["card"] == str(run / "card.md")
    assert "dpo: 1 steps" in capsys.readouterr().out
