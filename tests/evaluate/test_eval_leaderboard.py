"""`alignsmith leaderboard`: Bradley-Terry over runs answering the same IFEval items."""
from __future__ import annotations

import json

from alignsmith.train.cli import main

GPT4 = "ifeval/input_response_data_gpt4_20231107_145030.jsonl"


def test_leaderboard_orders_truncations(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))
    answers = [json.loads(x) for x in (shared_data / GPT4).read_text().splitlines()[:80]]
    runs = []
    for name, keep in (("quarter", 4), ("full", 1), ("half", 2)):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps({"prompt": a["prompt"], "response": a["response"][: len(a["response"]) // keep]})
                                + "\n" for a in answers))
        out = tmp_path / name
        assert main(["eval", "run", "--model", name, "--tasks", "ifeval", "--limit", "80", "--responses", str(path),
                     "--out", str(out)]) == 0
        runs.append(str(out))
    board_dir = tmp_path / "board"
    assert main(["leaderboard", *runs, "--bootstrap", "50", "--out", str(board_dir)]) == 0
    board = json.loads((board_dir / "leaderboard.json").read_text())
    order = [r["player"].split("@")[0] for r in board["ratings"]]
    assert order == ["full", "half", "quarter"]
    assert board["n_comparisons"] == 3 * 80
    i, j = board["players"].index(board["ratings"][0]["player"]), board["players"].index(board["ratings"][2]["player"])
    assert board["win_rate"][i][j] > 0.6 and board["win_rate"][i][i] is None
    assert all(r["ci_low"] <= r["rating"] <= r["ci_high"] for r in board["ratings"])
    assert "| 1 | full@full |" in (board_dir / "leaderboard.md").read_text()


def test_leaderboard_needs_two_runs(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))
    path = tmp_path / "r.jsonl"
    answers = [json.loads(x) for x in (shared_data / GPT4).read_text().splitlines()[:2]]
    path.write_text("".join(json.dumps({"prompt": a["prompt"], "response": a["response"]}) + "\n" for a in answers))
    assert main(["eval", "run", "--model", "m", "--tasks", "ifeval", "--limit", "2", "--responses", str(path),
                 "--out", str(tmp_path / "run")]) == 0
    assert main(["leaderboard", str(tmp_path / "run")]) == 2
    assert "at least two runs" in capsys.readouterr().err


def test_leaderboard_reports_style_controlled_ratings(shared_data, tmp_path, monkeypatch):
    """Truncated answers are shorter: style-controlled ratings and the length coefficient are reported."""
    monkeypatch.setenv("ALIGNSMITH_DATA", str(shared_data))
    answers = [json.loads(x) for x in (shared_data / GPT4).read_text().splitlines()[:40]]
    runs = []
    for name, keep in (("full", 1), ("half", 2)):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps({"prompt": a["prompt"], "response": a["response"][: len(a["response"]) // keep]})
                                + "\n" for a in answers))
        assert main(["eval", "run", "--model", name, "--tasks", "ifeval", "--limit", "40", "--responses", str(path),
                     "--out", str(tmp_path / name)]) == 0
        runs.append(str(tmp_path / name))
    assert main(["leaderboard", *runs, "--bootstrap", "30", "--out", str(tmp_path / "board")]) == 0
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert board["resampled"] == "items" and board["n_items"] == 40
    assert {r["player"] for r in board["style_controlled"]} == {r["player"] for r in board["ratings"]}
    assert set(board["style_coefficients"]) == {"length", "headers", "list_items", "bold"}
    assert "style-controlled" in (tmp_path / "board" / "leaderboard.md").read_text()
