"""Compare and Leaderboard pages show the calibrated verdicts: test, p, Holm p, interval, MDE; style control."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from alignsmith.dashboards.compare_view import metric_table

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


def _page(runs: Path, page: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("ALIGNSMITH_RUNS", str(runs))
    return AppTest.from_file(APP, default_timeout=120).run().switch_page(page).run()


def test_compare_table_has_test_p_holm_interval_and_mde(dashboard_runs, monkeypatch):
    at = _page(dashboard_runs, "page_compare.py", monkeypatch)
    assert not at.exception
    deltas = at.dataframe[0].value
    assert {"test", "p_value", "p_holm", "ci_low", "ci_high", "mde", "noise_floor"} <= set(deltas.columns)
    assert deltas["mde"].notna().all()


def test_leaderboard_shows_style_controlled_ratings(dashboard_runs, monkeypatch):
    at = _page(dashboard_runs, "page_leaderboard.py", monkeypatch)
    assert not at.exception
    shown = at.dataframe[0].value
    assert {"style_rating", "style_ci_low", "style_ci_high"} <= set(shown.columns)
    assert any("Style coefficients" in str(c.value) for c in at.caption)


def test_old_compare_json_without_new_columns_still_renders():
    old = {"metrics": [{"metric": "t/m", "base": 0.5, "new": 0.4, "diff": -0.1, "ci_low": -0.2, "ci_high": 0.0,
                        "p_value": 0.1, "p_holm": 0.1, "verdict": "no significant change", "test": "paired_bootstrap",
                        "n": 10, "higher_is_better": True}]}
    table = metric_table(old)
    assert pd.isna(table.loc[0, "mde"]) and table.loc[0, "verdict"] == "no significant change"
