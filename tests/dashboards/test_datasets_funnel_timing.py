"""The Datasets page's funnel table carries each step's seconds and rows/s when report.json has them."""
from alignsmith.dashboards.page_datasets import funnel_from_report


def test_funnel_table_shows_step_timing_when_present():
    report = {"rows_in": 10, "funnel": [
        {"step": "input", "kind": "check", "rows_in": 10, "dropped": 1, "rows_after": 9, "seconds": 0.001,
         "rows_per_s": 10000.0},
        {"step": "safety_policy", "kind": "filter", "rows_in": 9, "dropped": 2, "rows_after": 7, "seconds": 4.5,
         "rows_per_s": 2.0}]}
    table = funnel_from_report(report)
    assert table["step"].tolist() == ["rows in", "input", "safety_policy"]
    assert table["seconds"].tolist()[1:] == [0.001, 4.5] and table["rows_per_s"].tolist()[2] == 2.0
    old = funnel_from_report({"rows_in": 3, "funnel": [{"step": "empty", "dropped": 1, "rows_after": 2}]})
    assert "seconds" not in old.columns  # reports from before per-step timing still render
