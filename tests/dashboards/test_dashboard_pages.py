"""Every dashboard page under Streamlit's AppTest on the fixture runs folder (see conftest.py)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from alignsmith.evaluate.compare import compare_runs
from alignsmith.evaluate.leaderboard import leaderboard
from alignsmith.evaluate.results import load_eval_run

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
PAGES = ["page_runs.py", "page_leaderboard.py", "page_compare.py", "page_safety.py", "page_datasets.py",
         "page_training.py"]


def open_page(runs: Path, page: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("ALIGNSMITH_RUNS", str(runs))
    at = AppTest.from_file(APP, default_timeout=120).run()
    return at.switch_page(page).run()


def eval_run(runs: Path, suffix: str):
    return load_eval_run(next(p for p in (runs / "eval").iterdir() if p.name.endswith(suffix)))


def all_markdown(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exceptions(dashboard_runs, page, monkeypatch):
    at = open_page(dashboard_runs, page, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value
    # Model text never goes through Markdown: the XSS payload in the fixture must not reach it.
    assert "<script" not in all_markdown(at) and "onerror" not in all_markdown(at)


def test_runs_page_counts_runs_by_kind(dashboard_runs, monkeypatch):
    at = open_page(dashboard_runs, "page_runs.py", monkeypatch)
    counts = {m.label: m.value for m in at.metric}
    assert counts == {"compare": "1", "curate": "1", "demo": "1", "eval": "6", "pairs": "1", "train-dpo": "1"}
    demo = at.dataframe[0].value  # the latest demo's headline numbers come first
    assert demo["win rate vs base"].tolist() == ["", "0.620 [0.500, 0.740]"]
    assert "pairs" in set(at.dataframe[1].value["stage"])
    runs = at.dataframe[2].value
    assert set(runs.loc[runs["kind"] == "eval", "model"]) >= {"gpt4-reference", "dpo-step-200", "sft-step-100"}


def test_leaderboard_shows_the_library_ratings(dashboard_runs, monkeypatch):
    at = open_page(dashboard_runs, "page_leaderboard.py", monkeypatch)
    at.multiselect(key="lb-tasks").set_value(["ifeval"]).run()
    shown = at.dataframe[0].value
    runs = [eval_run(dashboard_runs, s) for s in ("gpt4-reference", "sft-step-100", "dpo-step-200")]
    expected = leaderboard(runs, n_boot=100, seed=0)["ratings"]
    assert list(shown["model"] if "model" in shown else shown["player"]) == [r["player"] for r in expected]
    assert shown["rating"].tolist() == pytest.approx([round(r["rating"], 3) for r in expected], abs=1e-3)
    assert expected[0]["player"].startswith("gpt4-reference")  # the unmodified answers rate best


def test_compare_shows_deltas_and_worst_regression_first(dashboard_runs, monkeypatch):
    at = open_page(dashboard_runs, "page_compare.py", monkeypatch)
    labels = at.selectbox(key="cmp-new").options
    at.selectbox(key="cmp-new").set_value(next(x for x in labels if x.startswith("dpo-step-200@2026010"
                                                                                "1"))).run()
    at.selectbox(key="cmp-base").set_value(next(x for x in labels if x.startswith("gpt4-reference@2026010"
                                                                                  "1"))).run()
    assert not at.exception
    expected = compare_runs(eval_run(dashboard_runs, "gpt4-reference"), eval_run(dashboard_runs, "Z-dpo-step-200"))
    deltas = at.dataframe[0].value
    assert deltas["diff"].tolist() == pytest.approx([round(m["diff"], 4) for m in expected["metrics"]], abs=1e-4)
    assert "regressed" in set(deltas["verdict"])
    items = at.dataframe[1].value
    assert items["delta"].is_monotonic_increasing and items["delta"].iloc[0] < 0
    # The injected answer is shown as text (in a cell or a code block), never as markup.
    assert any("<script>window.__pwned=1</script>" in str(c.value) for c in at.code) or \
        items["new_response"].str.contains("<script>", regex=False).any()


def test_compare_shows_a_saved_compare_result(dashboard_runs, monkeypatch):
    at = open_page(dashboard_runs, "page_compare.py", monkeypatch)
    at.radio(key="cmp-source").set_value("a saved `alignsmith compare` result").run()
    saved = json.loads((dashboard_runs / "compare" / "20260106T000000Z-cmp" / "compare.json").read_text())
    assert not at.exception
    assert "REGRESSION" in at.subheader[0].value
    deltas = at.dataframe[0].value
    assert deltas["p_holm"].tolist() == pytest.approx([round(m["p_holm"], 4) for m in saved["metrics"]], abs=1e-4)
    assert len(at.dataframe) == 2 and at.dataframe[1].value["delta"].iloc[0] < 0  # per-item diffs follow


def test_leaderboard_tag_filter_rates_only_those_items(dashboard_runs, monkeypatch):
    import dataclasses
    at = open_page(dashboard_runs, "page_leaderboard.py", monkeypatch)
    at.multiselect(key="lb-tags").set_value(["xstest_safe"]).run()
    runs = [eval_run(dashboard_runs, s) for s in ("safety-gpt4-reference", "safety-refuses-everything",
                                                  "safety-dpo-step-200")]
    only = [dataclasses.replace(r, items=r.items[r.items["subset"] == "xstest_safe"]) for r in runs]
    expected = leaderboard(only, n_boot=100, seed=0)
    assert any(c.value.startswith(f"{expected['n_comparisons']} head-to-head") for c in at.caption)
    assert at.dataframe[0].value["rating"].tolist() == pytest.approx(
        [round(r["rating"], 3) for r in expected["ratings"]], abs=1e-3)


def test_long_tables_are_paginated():
    def app():
        import pandas as pd

        from alignsmith.dashboards.widgets import text_table
        text_table(pd.DataFrame({"i": range(60), "text": [f"row {k}" for k in range(60)]}), key="t")

    at = AppTest.from_function(app).run()
    assert len(at.dataframe[0].value) == 25
    at.number_input(key="t-page").set_value(3).run()
    assert at.dataframe[0].value["i"].tolist() == list(range(50, 60))
    assert "rows 51–60 of 60" in [c.value for c in at.caption]


def test_safety_page_matches_metrics_json(dashboard_runs, monkeypatch):
    at = open_page(dashboard_runs, "page_safety.py", monkeypatch)
    table = at.dataframe[0].value.set_index("run")
    for suffix in ("safety-gpt4-reference", "safety-refuses-everything", "safety-dpo-step-200"):
        run = eval_run(dashboard_runs, suffix)
        row = table.loc[run.name]
        assert row["harmful_refused"] == pytest.approx(run.metrics["safety/harmful_refusal"]["value"], abs=1e-3)
        assert row["benign_refused"] == pytest.approx(run.metrics["safety/over_refusal"]["value"], abs=1e-3)
    assert table.loc[eval_run(dashboard_runs, "safety-refuses-everything").name, "benign_refused"] == 1.0
    everything = eval_run(dashboard_runs, "safety-refuses-everything")
    at.selectbox(key="safety-run").set_value(everything.name).run()
    examples = at.dataframe[1].value  # default group: benign prompts refused, i.e. every XSTest-safe item
    assert len(examples) == everything.metrics["safety/over_refusal"]["n"] > 0
    assert set(examples["subset"]) == {"xstest_safe"}


def test_datasets_page_card_and_pair_search(dashboard_runs, monkeypatch):
    import pandas as pd
    at = open_page(dashboard_runs, "page_datasets.py", monkeypatch)
    at.selectbox(key="ds-run").set_value("pairs/20260103T000000Z-pairs").run()
    pairs = pd.read_parquet(dashboard_runs / "pairs" / "20260103T000000Z-pairs" / "dpo.parquet")
    assert {m.label: m.value for m in at.metric}["pairs out"] == str(len(pairs))
    assert f"{len(pairs)} of {len(pairs)} pairs" in [c.value for c in at.caption]
    word = pairs["prompt"].map(lambda m: m[-1]["content"]).iloc[0].split()[2]
    at.text_input(key="pairs-search").set_value(word).run()
    hits = sum(pairs["prompt"].map(lambda m: word.lower() in m[-1]["content"].lower())
               | pairs["chosen"].map(lambda m: word.lower() in m[0]["content"].lower())
               | pairs["rejected"].map(lambda m: word.lower() in m[0]["content"].lower()))
    assert f"{hits} of {len(pairs)} pairs" in [c.value for c in at.caption]
    at.selectbox(key="ds-run").set_value("curate/20260104T000000Z-c").run()
    assert not at.exception
    report = json.loads((dashboard_runs / "curate" / "20260104T000000Z-c" / "report.json").read_text())
    funnel = at.dataframe[0].value
    assert funnel["rows_left"].tolist() == [report["rows_in"]] + [s["rows_after"] for s in report["funnel"]]
    assert funnel["dropped"].sum() == report["dropped_total"] > 0


def test_training_page_shows_last_accuracy(dashboard_runs, monkeypatch):
    at = open_page(dashboard_runs, "page_training.py", monkeypatch)
    last = at.dataframe[0].value
    assert last["prompt_accuracy"].tolist() == [0.625]
    assert last["instruction_accuracy"].tolist() == [pytest.approx(0.675)]


def test_empty_runs_folder_says_so(tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    for page in PAGES:
        at = open_page(tmp_path / "runs", page, monkeypatch)
        assert not at.exception
    at = open_page(tmp_path / "runs", "page_runs.py", monkeypatch)
    assert "No runs found" in at.info[0].value


def test_half_written_and_corrupt_runs_are_reported_and_others_still_show(dashboard_runs, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    shutil.copytree(dashboard_runs, runs)
    eval_dir = runs / "eval"
    (next(p for p in eval_dir.iterdir() if p.name.endswith("sft-step-100")) / "DONE").unlink()
    corrupt = next(p for p in eval_dir.iterdir() if p.name.endswith("Z-gpt4-reference"))
    (corrupt / "items.parquet").write_bytes(b"PAR1 this is not parquet")
    (runs / "pairs" / "20260103T000000Z-pairs" / "dpo.parquet").write_bytes(b"garbage")
    for page in PAGES:
        at = open_page(runs, page, monkeypatch)
        assert not at.exception, (page, [e.value for e in at.exception])
    at = open_page(runs, "page_leaderboard.py", monkeypatch)
    problems = "\n".join(t.value for t in at.text)
    assert "sft-step-100" in problems and "no DONE file" in problems
    assert corrupt.name in problems and "cannot be read" in problems
    # The three safety runs are still rated (the one readable IFEval run has no partner left).
    assert len(at.dataframe[0].value) == 3
    at = open_page(runs, "page_datasets.py", monkeypatch)
    at.selectbox(key="ds-run").set_value("pairs/20260103T000000Z-pairs").run()
    assert not at.exception and "could not be read" in at.error[0].value
    assert "not a readable Parquet file" in "\n".join(t.value for t in at.text)


def test_training_in_progress_is_shown_only_on_request(dashboard_runs, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    shutil.copytree(dashboard_runs, runs)
    (runs / "train-dpo" / "20260105T000000Z-t" / "DONE").unlink()
    at = open_page(runs, "page_training.py", monkeypatch)
    assert "No training run" in at.info[0].value and not at.dataframe
    at.checkbox(key="train-live").check().run()
    assert at.dataframe[0].value["prompt_accuracy"].tolist() == [0.625]
