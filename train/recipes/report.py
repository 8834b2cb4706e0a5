"""A recipe's results: base metrics, each seed's metrics and its paired comparison with the base.

Shape (what benchmarks/results/recipe_*.json hold): {"base": {metric: value}, "seeds": [{"seed", "metrics",
"compare": {metric: {"diff", "p_value", "p_holm", "test", "verdict"}}}], "minutes", ...}. Metric names are
those `eval run` writes (`task/metric`). Response length (mean words per answer, per task) is added beside
them because a recipe that wins by answering shorter or longer should show it; its comparison is scipy's
Wilcoxon signed-rank test over items (paired, no normality assumption; word counts are skewed).
"""
from __future__ import annotations

import json
from pathlib import Path


def _metrics(run_dir: Path) -> dict[str, float]:
    data = json.loads((run_dir / "metrics.json").read_text())
    return {k: v.get("value") if isinstance(v, dict) else v for k, v in data.items()}


def _words_per_item(run_dir: Path):
    """task -> pandas Series item_id -> mean words per response."""
    from alignsmith.evaluate.results import load_eval_run
    items = load_eval_run(run_dir).items
    items = items.assign(words=items["response"].fillna("").str.split().str.len())
    return {task: rows.groupby("item_id")["words"].mean() for task, rows in items.groupby("task")}


def _length_metrics(words: dict) -> dict[str, float]:
    return {f"{task}/response_words": float(s.mean()) for task, s in words.items()}


def _length_compare(base_words: dict, new_words: dict) -> dict:
    from scipy.stats import wilcoxon
    out = {}
    for task, b in base_words.items():
        if task not in new_words:
            continue
        joined = b.to_frame("b").join(new_words[task].to_frame("n"), how="inner")
        d = joined["n"].to_numpy(float) - joined["b"].to_numpy(float)
        p = float(wilcoxon(d).pvalue) if (d != 0).any() else 1.0
        out[f"{task}/response_words"] = {"diff": float(d.mean()), "p_value": p, "test": "wilcoxon",
                                         "n": int(d.size)}
    return out


def _compare_entries(compare_dir: Path) -> dict:
    data = json.loads((compare_dir / "compare.json").read_text())
    return {m["metric"]: {"diff": m["diff"], "p_value": m["p_value"], "p_holm": m.get("p_holm"),
                          "test": m["test"], "verdict": m.get("verdict"), "n": m["n"]}
            for m in data["metrics"]}


def recipe_results(recipe, out: Path, timings: dict, *, partial: bool = False) -> dict:
    """Collect the report named in the recipe's `report:` section from the finished stage folders.

    partial=True (some stages not run yet, e.g. `--only`): only finished stages are read, and the result says
    `"complete": false` and lists the `missing` stages, so it cannot pass for a finished recipe's report.
    """
    from alignsmith.curate.core.runs import is_done

    from .stages import STAGE_KINDS, output_path
    by_base: dict[str, list] = {}
    missing = [s.name for s in recipe.stages if not is_done(out / s.name)] if partial else []
    for s in recipe.stages:
        if partial and s.name in missing:
            continue
        by_base.setdefault(s.base, []).append(s)

    def path(stage) -> Path:
        return output_path(STAGE_KINDS[stage.uses], out / stage.name)

    base_metrics, base_words = {}, {}
    for name in recipe.report.get("base", []):
        for stage in by_base.get(name, []):
            base_metrics.update(_metrics(path(stage)))
            words = _words_per_item(path(stage))
            base_words.update(words)
            base_metrics.update(_length_metrics(words))
    seeds = []
    for seed in recipe.seeds:
        metrics, words, compare = {}, {}, {}
        for name in recipe.report.get("seeded", []):
            for stage in by_base.get(name, []):
                if stage.seed == seed:
                    metrics.update(_metrics(path(stage)))
                    w = _words_per_item(path(stage))
                    words.update(w)
                    metrics.update(_length_metrics(w))
        for name in recipe.report.get("compare", []):
            for stage in by_base.get(name, []):
                if stage.seed == seed:
                    compare.update(_compare_entries(path(stage)))
        compare.update(_length_compare(base_words, words))
        seeds.append({"seed": seed, "metrics": metrics, "compare": compare})
    head = {"recipe": recipe.name, "scale": recipe.scale, "model": recipe.model}
    if partial:
        head.update({"complete": False, "missing": missing})
    return {**head, "base": base_metrics, "seeds": seeds, "minutes": round(busy_seconds(out, timings) / 60, 1),
            "stage_minutes_sum": round(sum(timings.values()) / 60, 1),
            "stage_minutes": {k: round(v / 60, 2) for k, v in timings.items()}}


def busy_seconds(out: Path, timings: dict) -> float:
    """The recipe's wall time: the length of the union of its stages' run intervals (spans.json), so stages
    run side by side count once and the gaps between resumed runs not at all; a stage without a recorded
    interval (timed before spans were kept) adds its own seconds."""
    spans_file = out / "spans.json"
    spans = json.loads(spans_file.read_text()) if spans_file.exists() else {}
    intervals = sorted(tuple(spans[k]) for k in timings if k in spans)
    total, end = 0.0, float("-inf")
    for a, b in intervals:
        if b > end:
            total += b - max(a, end)
            end = b
    return total + sum(v for k, v in timings.items() if k not in spans)
