"""The recipe step `sft_rows`: per prompt its best-scored candidates as SFT rows, up to a count per category."""
from __future__ import annotations

import pandas as pd
import pytest

from alignsmith.curate.core.errors import InputError
from alignsmith.train.recipes.steps import sft_rows


def _scored(tmp_path):
    rows = []
    for pid, category, scores in (("p1", "harmful", [0.9, 0.3, 0.2]), ("p2", "benign", [0.8, 0.7, 0.6, 0.1]),
                                  ("p3", "benign", [0.4, 0.3])):
        for i, s in enumerate(scores):
            rows.append({"prompt": [{"role": "user", "content": f"question {pid}"}], "prompt_id": pid,
                         "candidate_id": f"{pid}-c{i}", "response": f"answer {pid} {i}", "score": s,
                         "category": category})
    run = tmp_path / "pairs"
    run.mkdir()
    pd.DataFrame(rows).to_parquet(run / "scored_candidates.parquet")
    return run


def test_best_candidates_per_category_above_the_floor(tmp_path):
    run = _scored(tmp_path)
    out = tmp_path / "s" / "sft.parquet"
    sft_rows({"input": str(run), "per_category": {"benign": 2, "harmful": 1}, "min_score": 0.5}, out)
    got = pd.read_parquet(out)
    # harmful p1: only its best; benign p2: its two best (0.8, 0.7), not 0.6; benign p3: none reaches 0.5.
    assert list(got.candidate_id) == ["p1-c0", "p2-c0", "p2-c1"]
    assert list(got.category) == ["harmful", "benign", "benign"]
    first = got.iloc[0]
    assert [dict(m) for m in first.prompt] == [{"role": "user", "content": "question p1"}]
    assert [dict(m) for m in first.completion] == [{"role": "assistant", "content": "answer p1 0"}]
    # `default` applies to categories not named; without limits every prompt keeps one row.
    sft_rows({"input": str(run), "per_category": {"default": 3}}, out)
    assert list(pd.read_parquet(out).candidate_id) == ["p1-c0", "p1-c1", "p1-c2", "p2-c0", "p2-c1", "p2-c2",
                                                       "p3-c0", "p3-c1"]
    sft_rows({"input": str(run)}, out)
    assert list(pd.read_parquet(out).candidate_id) == ["p1-c0", "p2-c0", "p3-c0"]


def test_bad_input_names_the_field(tmp_path):
    with pytest.raises(InputError) as e:
        sft_rows({"input": str(tmp_path)}, tmp_path / "o.parquet")
    assert e.value.field == "input" and "scored_candidates" in str(e.value)
    run = _scored(tmp_path)
    with pytest.raises(InputError) as e:
        sft_rows({"input": str(run), "min_score": 2.0}, tmp_path / "o.parquet")
    assert e.value.field == "min_score"
    assert not (tmp_path / "o.parquet").exists()
