"""`alignsmith winrates`: AlpacaEval annotations → raw and length-controlled win rates, on the real files."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from alignsmith.curate.core.errors import InputError
from alignsmith.evaluate.annotations import read_annotations
from alignsmith.evaluate.lc_glm import LCSettings, _fit_fractional, _fit_small, lc_win_rates
from alignsmith.evaluate.winrates import compute_winrates

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "alpaca_eval_annotations"
COMPACT = DATA / "annotations_compact.jsonl.gz"
needs_data = pytest.mark.skipif(not COMPACT.exists(), reason="shared AlpacaEval annotations not present")


def _published() -> pd.DataFrame:
    return pd.read_csv(DATA / "leaderboard_dev.csv").set_index("folder")


def test_newton_fit_matches_scikit_learn():
    rng = np.random.default_rng(0)
    x = np.c_[rng.normal(size=300), rng.normal(size=300), np.ones(300)]
    p = 1 / (1 + np.exp(-(x @ [0.7, -1.2, 0.3]) + rng.normal(0, 0.3, 300)))
    w = rng.uniform(0.2, 1.5, 300)
    np.testing.assert_allclose(_fit_small(x, p, w, 1.0), _fit_fractional(x, p, w, 1.0), atol=1e-4)


@needs_data
@pytest.mark.parametrize("model", ["alpaca-7b", "gpt-3.5-turbo-1106"])
def test_original_annotations_json_load_as_is_and_match_raw_win_rate(model):
    ann = read_annotations([str(DATA / f"{model}.annotations.json.gz")], "auto")
    assert ann.baseline == "gpt4_1106_preview" and len(ann.table) == 805 and not ann.excluded
    raw = 100 * ann.table["preference"].mean()
    assert raw == pytest.approx(_published().loc[model, "win_rate"], abs=0.01)


@needs_data
def test_lc_reproduces_the_published_leaderboard():
    out = compute_winrates([str(COMPACT)], settings=LCSettings(n_boot=0))
    ours = out["table"].set_index("generator")
    pub = _published()
    ours = ours.loc[pub.index]
    assert (ours["win_rate"] - pub["win_rate"]).abs().max() < 0.01
    err = (ours["lc_win_rate"] - pub["length_controlled_winrate"]).abs()
    assert err.mean() <= 1.5 and err.max() <= 5.0
    assert spearmanr(ours["lc_win_rate"], pub["length_controlled_winrate"]).statistic >= 0.99
    assert out["notes"]["instruction_difficulty"] and out["notes"]["length_variant_models"]
    # The published "gamed" effect: gpt-3.5's short answers are penalised by the raw rate only.
    assert ours.loc["gpt-3.5-turbo-1106", "lc_win_rate"] > 2 * ours.loc["gpt-3.5-turbo-1106", "win_rate"]


@needs_data
def test_length_variants_move_less_than_raw():
    table = compute_winrates([str(COMPACT)], settings=LCSettings(n_boot=0))["table"].set_index("generator")
    for fam in ("gpt-3.5-turbo-1106", "alpaca-7b"):
        members = [fam, f"{fam}_concise", f"{fam}_verbose"]
        raw, lc = table.loc[members, "win_rate"], table.loc[members, "lc_win_rate"]
        assert (lc.max() - lc.min()) / lc.mean() < 0.5 * (raw.max() - raw.min()) / raw.mean()


def _toy(n_models=3, n=40, seed=0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(n_models):
        for i in range(n):
            rows.append({"generator_1": "base", "generator_2": f"m{m}", "index": i, "instruction": f"q{i}",
                         "output_1": "x" * int(rng.integers(50, 300)), "output_2": "y" * int(rng.integers(50, 300)),
                         "preference": float(1 + rng.uniform())})
    return rows


def _write_json(path: Path, rows: list[dict]) -> Path:
    with gzip.open(path, "wt") as f:
        json.dump(rows, f)
    return path


def test_missing_preference_is_an_exclusion_and_small_models_are_excluded(tmp_path):
    rows = _toy()
    rows[3]["preference"] = None
    rows += [{**rows[0], "generator_2": "tiny", "instruction": f"q{i}"} for i in range(5)]
    out = compute_winrates([str(_write_json(tmp_path / "a.json.gz", rows))], out=str(tmp_path / "wr.csv"),
                           settings=LCSettings(n_boot=5))
    notes = out["notes"]
    assert notes["excluded_rows"][0]["line"] == 4 and "no preference" in notes["excluded_rows"][0]["reason"]
    assert "tiny" in notes["excluded"] and "tiny" not in set(out["table"]["generator"])
    csv = pd.read_csv(tmp_path / "wr.csv")
    assert list(csv.columns) == ["generator", "n", "win_rate", "lc_win_rate", "lc_ci_low", "lc_ci_high"]
    assert set(csv["generator"]) == {"m0", "m1", "m2"}
    assert json.loads((tmp_path / "wr.notes.json").read_text())["excluded"]["tiny"].startswith("only 5")


@pytest.mark.parametrize("change,field", [({"preference": 2.5}, "preference"), ({"preference": "high"}, "preference"),
                                          ({"output_2": None}, "output_2"), ({"generator_2": None}, "generator_2")])
def test_bad_rows_name_file_line_field(tmp_path, change, field):
    rows = _toy()
    rows[6].update(change)
    path = _write_json(tmp_path / "bad.json.gz", rows)
    with pytest.raises(InputError) as err:
        read_annotations([str(path)])
    assert err.value.line == 7 and err.value.field == field and "bad.json.gz" in str(err.value)


def test_several_baselines_and_unknown_format(tmp_path):
    rows = _toy()
    rows[10]["generator_1"] = "other"
    with pytest.raises(InputError, match="several baselines"):
        read_annotations([str(_write_json(tmp_path / "two.json.gz", rows))])
    odd = tmp_path / "ann.txt"
    odd.write_text("{}")
    with pytest.raises(InputError, match="format"):
        read_annotations([str(odd)])
    with pytest.raises(InputError, match="unknown annotation format"):
        read_annotations([str(odd)], "csv")


def test_alpaca_draw_code_zero_is_a_tie(tmp_path):
    rows = _toy(n_models=1)
    rows[0]["preference"] = 0
    ann = read_annotations([str(_write_json(tmp_path / "a.json.gz", rows))])
    assert ann.table["preference"].iloc[0] == 0.5


def test_cli_writes_runs_that_leaderboard_reads(tmp_path):
    from alignsmith.evaluate.leaderboard import leaderboard
    from alignsmith.evaluate.results import load_eval_run
    from alignsmith.train.cli import main
    path = tmp_path / "ann.jsonl"
    path.write_text("\n".join(json.dumps({k: v for k, v in r.items() if k != "instruction"}) for r in _toy()))
    code = main(["winrates", "--annotations", str(path), "--out", str(tmp_path / "wr.csv"), "--write-runs",
                 "--runs-root", str(tmp_path / "runs"), "--bootstrap", "5"])
    assert code == 0
    runs = [load_eval_run(p) for p in sorted((tmp_path / "runs" / "eval").iterdir())]
    assert len(runs) == 3 and {"winrate/win", "winrate/lc_win_rate"} <= set(runs[0].metrics)
    board = leaderboard(runs, n_boot=5)
    assert len(board["ratings"]) == 4  # three models and the shared reference
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"generator_1": "b", "generator_2": "m", "preference": 7, "len_1": 1, "len_2": 2}))
    assert main(["winrates", "--annotations", str(bad), "--out", str(tmp_path / "x.csv")]) == 2


def test_equal_quality_longer_model_is_near_half_with_difficulty():
    # Two models of equal quality to the baseline; one is much longer and the judge likes length.
    rng = np.random.default_rng(3)
    rows = []
    difficulty = rng.normal(0, 1, 300)
    for model, shift in (("long", 150), ("same", 0)):
        base = rng.normal(400, 80, 300)
        mine = base + shift + rng.normal(0, 80, 300)
        logit = difficulty + 1.5 * np.tanh((mine - base) / 120)
        rows += [{"model": model, "instruction": i, "preference": float(1 / (1 + np.exp(-logit[i]))),
                  "len_model": mine[i], "len_baseline": base[i]} for i in range(300)]
    results, notes = lc_win_rates(pd.DataFrame(rows), settings=LCSettings(n_boot=20))
    by = {r.model: r for r in results}
    assert by["long"].win_rate > 0.6
    assert by["long"].lc_win_rate == pytest.approx(0.5, abs=0.06)
    assert by["long"].lc_ci_low < by["long"].lc_win_rate < by["long"].lc_ci_high
    assert notes["instruction_difficulty"] and "warning_regularisation" in notes


def test_eval_runs_read_back_as_annotations(tmp_path):
    path = tmp_path / "ann.jsonl"
    path.write_text("\n".join(json.dumps({k: v for k, v in r.items() if k != "instruction"}) for r in _toy()))
    first = compute_winrates([str(path)], write_runs=True, runs_root=str(tmp_path / "runs"),
                             settings=LCSettings(n_boot=0))
    again = compute_winrates(first["runs"], fmt="auto", settings=LCSettings(n_boot=0))
    a = first["table"].set_index("generator")["win_rate"]
    b = again["table"].assign(generator=lambda t: t["generator"].str.split("@").str[0]).set_index("generator")["win_rate"]
    assert again["notes"]["baseline"] == "reference:base"
    for model in a.index:
        assert b[model] == pytest.approx(a[model])


@needs_data
def test_a_model_given_twice_is_flagged():
    ann = read_annotations([str(DATA / "alpaca-7b.annotations.json.gz"), str(COMPACT)])
    assert any(w.startswith("alpaca-7b appears in several files") for w in ann.warnings)
