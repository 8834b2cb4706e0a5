"""The Datasets page's funnel tables: step timing when report.json has it; pairs card funnels, old cards too."""
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


def test_pairs_card_funnels_and_old_cards_give_the_same_table():
    """A card's funnels are the one list format; a card from before issue 15 (`{reason: n}` in its stages)
    is converted on read and shows the same rows."""
    from alignsmith.dashboards.page_datasets import card_funnel
    new = {"stages": {"candidates_in": 10, "pairs_proposed": 6},
           "candidates_funnel": [
               {"step": "no score", "kind": "reason", "rows_in": 10, "dropped": 3, "rows_after": 7, "seconds": None,
                "rows_per_s": None},
               {"step": "skipped", "kind": "reason", "rows_in": 7, "dropped": 1, "rows_after": 6, "seconds": None,
                "rows_per_s": None}],
           "pairs_funnel": []}
    old = {"stages": {"candidates_in": 10, "pairs_proposed": 6, "candidates_dropped": {"no score": 3, "skipped": 1},
                      "pairs_dropped": {}}}
    for card in (new, old):
        table = card_funnel(card, "candidates", "candidates_in")
        assert table.to_dict("records") == [{"step": "rows in", "rows_left": 10, "dropped": 0},
                                            {"step": "no score", "rows_left": 7, "dropped": 3},
                                            {"step": "skipped", "rows_left": 6, "dropped": 1}]
        assert card_funnel(card, "pairs", "pairs_proposed")["rows_left"].tolist() == [6]
    assert card_funnel({"stages": {}}, "pairs", "pairs_proposed") is None
