"""Judges page (judge cards, loud warnings) and the Leaderboard's raw / length-controlled win rates."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from alignsmith.curate.core.datafiles import write_json
from alignsmith.evaluate.lc_glm import LCSettings
from alignsmith.evaluate.winrates import compute_winrates

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


def _open(runs: Path, page: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("ALIGNSMITH_RUNS", str(runs))
    at = AppTest.from_file(APP, default_timeout=120).run()
    return at.switch_page(page).run()


def _card(runs: Path, name: str, card: dict) -> None:
    folder = runs / "judge_card" / name
    write_json(folder / "card.json", card)
    (folder / "config.yaml").write_text("kind: judge_card\n")
    (folder / "DONE").write_text("x")


def test_judges_page_lists_cards_and_warns(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    _card(runs, "a", {"judge": "llm:vllm:smollm2", "gold": "HH-RLHF test", "n_scored": 100, "agreement": 0.52,
                      "agreement_ci": [0.43, 0.61], "cohen_kappa": 0.04, "position_consistency": 0.1,
                      "parse_failure_rate": 0.0, "warnings": ["NEAR CHANCE: agreement 0.520"]})
    _card(runs, "b", {"judge": "reward:rm", "gold": "gold.jsonl", "n_scored": 50, "agreement": 0.7,
                      "agreement_ci": [0.6, 0.8], "warnings": []})
    (runs / "judge_card" / "c").mkdir()  # unfinished: reported, not shown
    at = _open(runs, "page_judges.py", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert set(table["judge"]) == {"llm:vllm:smollm2", "reward:rm"}
    assert any("0.520 [0.430, 0.610]" == v for v in table["agreement [95% CI]"])
    assert any("NEAR CHANCE" in e.value for e in at.error)


def test_leaderboard_shows_raw_and_lc_win_rates(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    rows = [{"generator_1": "base", "generator_2": f"m{m}", "index": i, "len_1": int(rng.integers(100, 400)),
             "len_2": int(rng.integers(100, 400)), "preference": float(1 + rng.uniform())}
            for m in range(2) for i in range(30)]
    ann = tmp_path / "ann.jsonl"
    ann.write_text("\n".join(json.dumps(r) for r in rows))
    runs = tmp_path / "runs"
    out = compute_winrates([str(ann)], write_runs=True, runs_root=str(runs), settings=LCSettings(n_boot=5))
    at = _open(runs, "page_leaderboard.py", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    shown = next(d.value for d in at.dataframe if "LC win rate % [95% CI]" in d.value.columns)
    ours = out["table"].set_index("generator")
    for run, lc in zip(shown["run"], shown["LC win rate % [95% CI]"]):
        model = run.split("@")[0]
        assert lc.startswith(f"{ours.loc[model, 'lc_win_rate']:.1f} [")


def test_judges_page_lists_a_card_written_by_the_cli(shared_data, tmp_path, monkeypatch):
    """A real `judge card` run folder (the no-model length baseline on the default HH-RLHF gold) is listed
    with the numbers the CLI wrote and its warning."""
    from alignsmith.train.cli import main
    runs = tmp_path / "runs"
    monkeypatch.chdir(tmp_path)
    assert main(["judge", "card", "--judge", "length:longer", "--per-split", "50",
                 "--out", str(runs / "judge_card" / "length")]) == 0
    card = json.loads((runs / "judge_card" / "length" / "card.json").read_text())
    at = _open(runs, "page_judges.py", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table["judge"]) == ["length:longer"] and list(table["pairs"]) == [100]
    assert table["prefers longer (humans)"][0].startswith("1.000")
    assert card["agreement"] is not None and any("NEAR CHANCE" in e.value for e in at.error)
