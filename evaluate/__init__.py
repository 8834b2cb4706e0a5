"""alignsmith.evaluate: eval tasks, the runner, statistics, win rates, comparison and the results store.

The plain functions a Python user calls are named here and imported on first use (the dashboards import
this package and must stay free of torch and vLLM):

    from alignsmith.evaluate import EvalRunConfig, compare_runs, load_eval_run, run_eval

Functions named like their module (`leaderboard.leaderboard`, `judge_card.judge_card`,
`bradley_terry.bradley_terry`) are imported from that module: a package attribute of the same name would
be the module once it is loaded.
"""
from __future__ import annotations

from alignsmith.curate.core.registry import lazy_exports

# public name -> "module:attribute" under alignsmith.evaluate
_EXPORTS = {
    "EvalRunConfig": "run_config:EvalRunConfig",
    "run_eval": "runner:run_eval",
    "get_task": "tasks:get_task",
    "EvalItem": "tasks:EvalItem",
    "load_eval_run": "results:load_eval_run",
    "results_index": "results:results_index",
    "compare_runs": "compare:compare_runs",
    "compute_winrates": "winrates:compute_winrates",
    "bootstrap_mean_ci": "stats:bootstrap_mean_ci",
    "paired_bootstrap": "stats:paired_bootstrap",
    "mcnemar_exact": "stats:mcnemar_exact",
    "items_needed": "power:items_needed",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
