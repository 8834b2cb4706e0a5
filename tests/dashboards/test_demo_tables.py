"""The Runs page's demo tables list every stage folder the demo summary names, the IFEval evals included."""
from __future__ import annotations

from alignsmith.dashboards.page_runs import demo_tables


def test_ifeval_eval_runs_are_listed_as_stages():
    summary = {"generate_run": "g", "train_runs": ["t"], "eval_runs": {"base": "e0", "dpo-seed0": "e1"},
               "ifeval_eval_runs": {"base": "i0", "dpo-seed0": "i1"}}
    stages, _ = demo_tables(summary)
    rows = dict(zip(stages["stage"], stages["run folder"]))
    assert rows["eval (IFEval): base"] == "i0" and rows["eval (IFEval): dpo-seed0"] == "i1"
    assert rows["eval: dpo-seed0"] == "e1"
    older, _ = demo_tables({k: v for k, v in summary.items() if k != "ifeval_eval_runs"})  # summaries before it
    assert not any(s.startswith("eval (IFEval)") for s in older["stage"])
