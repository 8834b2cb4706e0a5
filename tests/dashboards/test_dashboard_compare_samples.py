"""Per-item diffs pair sample k with sample k when eval runs drew several answers per item."""
from pathlib import Path

import pandas as pd

from alignsmith.dashboards.compare_view import item_diffs
from alignsmith.evaluate.results import EvalRun

CONFIG = {"kind": "eval", "tasks": {"constraints": {
    "primary": "prompt_strict", "metrics": [{"name": "prompt_strict", "higher_is_better": True}]}}}


def _run(values):
    items = pd.DataFrame({"task": "constraints", "item_id": ["a"] * len(values), "prompt_id": "p-a",
                          "sample": list(range(len(values))), "prompt": "q",
                          "response": [f"r{i}" for i in range(len(values))], "prompt_strict": values})
    return EvalRun(Path("x"), CONFIG, {}, items)


def test_samples_are_paired_not_crossed():
    table = item_diffs(_run([1.0, 0.0, 1.0, 0.0]), _run([1.0, 1.0, 0.0, 0.0]))
    assert len(table) == 4  # not 16
    assert sorted(table["delta"]) == [-1.0, 0.0, 0.0, 1.0]
    assert table.set_index("sample").loc[2, "new_response"] == "r2"
