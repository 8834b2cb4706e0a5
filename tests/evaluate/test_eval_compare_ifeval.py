"""Acceptance: `compare` on two scorings of IFEval (GPT-4 vs truncated GPT-4) gates; the same run passes."""
from __future__ import annotations

import json
import shutil

import pytest

from alignsmith.train.cli import main

GPT4 = "ifeval/input_response_data_gpt4_20231107_145030.jsonl"


@pytest.fixture(scope="module")
def _scored(shared_data, tmp_path_factory):
    """Eval runs of the GPT-4 IFEval responses and of the same responses cut to a quarter (made once)."""
    tmp_path = tmp_path_factory.mktemp("ifeval-runs")
    mp = pytest.MonkeyPatch()
    mp.setenv("ALIGNSMITH_DATA", str(shared_data))
    truncated = tmp_path / "truncated.jsonl"
    with open(shared_data / GPT4) as src, open(truncated, "w") as dst:
        for line in src:
            row = json.loads(line)
            dst.write(json.dumps({"prompt": row["prompt"], "response": row["response"][: len(row["response"]) // 4]})
                      + "\n")
    base, worse = tmp_path / "gpt4", tmp_path / "truncated"
    assert main(["eval", "run", "--model", "gpt4", "--tasks", "ifeval", "--responses", str(shared_data / GPT4),
                 "--out", str(base)]) == 0
    assert main(["eval", "run", "--model", "gpt4-truncated", "--tasks", "ifeval", "--responses", str(truncated),
                 "--out", str(worse)]) == 0
    mp.undo()
    return base, worse


@pytest.fixture()
def ifeval_runs(_scored, tmp_path, shared_data, monkeypatch):
    """Fresh copies of the two runs (tests may damage them)."""
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))
    copies = []
    for run in _scored:
        shutil.copytree(run, tmp_path / run.name)
        copies.append(tmp_path / run.name)
    return tuple(copies)


def test_gpt4_metrics_match_official_accuracies(ifeval_runs, shared_data):
    base, _ = ifeval_runs
    metrics = json.loads((base / "metrics.json").read_text())
    official = json.loads((shared_data / "ifeval/official_results/summary.json").read_text())
    for mode in ("strict", "loose"):
        assert metrics[f"ifeval/prompt_{mode}"]["value"] == pytest.approx(official[mode]["prompt_level"])
        assert metrics[f"ifeval/inst_{mode}"]["value"] == pytest.approx(official[mode]["instruction_level"])
    for m in metrics.values():
        assert m["ci_low"] <= m["value"] <= m["ci_high"] and m["n"] == 541 and m["higher_is_better"] is True


def test_compare_truncated_exits_1_and_self_exits_0(ifeval_runs, tmp_path, capsys):
    base, worse = ifeval_runs
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(worse), "--out", str(out)]) == 1
    result = json.loads((out / "compare.json").read_text())
    assert result["regressed"] and result["shared_items"] == 541
    by_name = {m["metric"]: m for m in result["metrics"]}
    assert by_name["ifeval/prompt_strict"]["test"] == "mcnemar_exact"
    assert by_name["ifeval/inst_loose"]["test"] == "sign_flip_mc"  # permutation test (was the paired bootstrap p)
    assert all(m["verdict"] == "regressed" for m in result["metrics"])
    assert "REGRESSION" in (out / "compare.md").read_text()
    # Truncated as the base and GPT-4 as the new run: an improvement, not a regression.
    assert main(["compare", str(worse), str(base), "--out", str(tmp_path / "cmp2")]) == 0
    assert main(["compare", str(base), str(base), "--out", str(tmp_path / "same")]) == 0
    same = json.loads((tmp_path / "same" / "compare.json").read_text())
    assert all(m["diff"] == 0 and m["p_value"] == 1.0 for m in same["metrics"])


def test_max_drop_gate(ifeval_runs, tmp_path, monkeypatch):
    base, _ = ifeval_runs
    # Three answers replaced: not a significant change, but beyond a zero max-drop.
    sliced = tmp_path / "sliced.jsonl"
    import pandas as pd
    items = pd.read_parquet(base / "items.parquet")
    items.loc[items.index[:3], "response"] = "x"
    items[["task", "task_version", "item_id", "response"]].to_json(sliced, orient="records", lines=True)
    changed = tmp_path / "changed"
    assert main(["eval", "run", "--model", "m", "--tasks", "ifeval", "--responses", str(sliced),
                 "--out", str(changed)]) == 0
    assert main(["compare", str(base), str(changed), "--out", str(tmp_path / "c1")]) == 0
    assert main(["compare", str(base), str(changed), "--max-drop", "inst_loose=0",
                 "--out", str(tmp_path / "c2")]) == 1
    assert main(["compare", str(base), str(changed), "--max-drop", "ifeval/inst_loose=0.5",
                 "--out", str(tmp_path / "c3")]) == 0
    assert main(["compare", str(base), str(changed), "--max-drop", "nonsense=0.1"]) == 2


def test_compare_refuses_other_versions_and_disjoint_items(ifeval_runs, tmp_path, capsys):
    import yaml
    base, worse = ifeval_runs
    config = yaml.safe_load((worse / "config.yaml").read_text())
    config["tasks"]["ifeval"]["version"] = "0"
    (worse / "config.yaml").write_text(yaml.safe_dump(config))
    assert main(["compare", str(base), str(worse)]) == 2
    assert "different task versions: ifeval (base v1, new v0)" in capsys.readouterr().err
    import pandas as pd
    items = pd.read_parquet(base / "items.parquet")
    items["item_id"] = "other-" + items["item_id"]
    items.to_parquet(worse / "items.parquet")
    config["tasks"]["ifeval"]["version"] = "1"
    (worse / "config.yaml").write_text(yaml.safe_dump(config))
    assert main(["compare", str(base), str(worse)]) == 2
    assert "share no items" in capsys.readouterr().err


def test_compare_refuses_unfinished_run(ifeval_runs, capsys):
    base, worse = ifeval_runs
    (worse / "DONE").unlink()
    assert main(["compare", str(base), str(worse)]) == 2
    assert "no DONE marker" in capsys.readouterr().err


def test_compare_on_overlapping_slices(ifeval_runs, tmp_path, shared_data):
    """A 20-item run against the full base: only the shared 20 items are compared."""
    base, _ = ifeval_runs
    small = tmp_path / "small"
    assert main(["eval", "run", "--model", "gpt4", "--tasks", "ifeval", "--limit", "20",
                 "--responses", str(shared_data / GPT4), "--out", str(small)]) == 0
    assert main(["compare", str(base), str(small), "--out", str(tmp_path / "cmp")]) == 0
    result = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert (result["shared_items"], result["base_only_items"], result["new_only_items"]) == (20, 521, 0)
    assert all(m["n"] == 20 for m in result["metrics"])


def test_power_command_plans_items_for_a_two_point_drop(ifeval_runs, capsys):
    """`alignsmith power` on the GPT-4 run vs the truncated run answers "how many items for 2 points?"."""
    base, worse = ifeval_runs
    assert main(["power", str(base), "--metric", "inst_strict", "--effect", "0.02"]) == 0
    one = capsys.readouterr().out
    assert "ifeval/inst_strict: to detect a change of 0.02 with 80% power" in one and "one pilot run" in one
    assert main(["power", str(base), str(worse), "--metric", "ifeval/prompt_strict", "--effect", "0.02"]) == 0
    assert "discordant of 541 items" in capsys.readouterr().out
    assert main(["power", str(base), "--metric", "nope", "--effect", "0.02"]) == 2
