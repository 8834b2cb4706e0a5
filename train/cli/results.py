"""`alignsmith compare`, `alignsmith leaderboard` and `alignsmith runs ls`: reading eval runs."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub) -> None:
    """Add the compare, leaderboard and runs sub-commands."""
    p = sub.add_parser("compare", help="paired regression test of NEW_RUN against BASE_RUN (exit 1 on regression)")
    p.add_argument("base", metavar="BASE_RUN")
    p.add_argument("new", metavar="NEW_RUN")
    p.add_argument("--alpha", type=float, default=0.05, help="family-wise error rate (Holm) (default 0.05)")
    p.add_argument("--max-drop", action="append", metavar="METRIC=VALUE",
                   help="also fail when METRIC (task/metric or metric) drops by more than VALUE (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--out", help="folder for compare.json + compare.md (default runs/compare/<utc>-<hash>)")
    p.set_defaults(func=_compare)

    p = sub.add_parser("power", help="items needed to detect a change in a metric, from one or two pilot eval runs")
    p.add_argument("pilot", metavar="PILOT_RUN", help="an eval run (the current checkpoint, say)")
    p.add_argument("pilot_new", metavar="PILOT_RUN_2", nargs="?",
                   help="a second run on the same items (candidate or another seed): measures the paired spread")
    p.add_argument("--metric", required=True, help="task/metric or metric, e.g. ifeval/inst_strict")
    p.add_argument("--effect", type=float, required=True, help="change to detect, e.g. 0.02 for 2 points")
    p.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level (default 0.05)")
    p.add_argument("--power", type=float, default=0.8, help="wanted power (default 0.8)")
    p.set_defaults(func=_power)

    p = sub.add_parser("leaderboard", help="Bradley-Terry ratings and win-rate matrix over eval runs")
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples for the intervals")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder for leaderboard.json + leaderboard.md (default runs/leaderboard/...)")
    p.set_defaults(func=_leaderboard)

    p = sub.add_parser("runs", help="inspect run folders: ls lists finished eval runs (the results index)")
    group = p.add_subparsers(dest="runs_command", metavar="RUNS_COMMAND")
    p.set_defaults(func=lambda args: p.print_help() or 0)
    ls = group.add_parser("ls", help="one line per finished eval run: model, tasks, time, metrics")
    ls.add_argument("--root", help="runs root (default $ALIGNSMITH_RUNS or ./runs)")
    ls.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    ls.set_defaults(func=_runs_ls)


def _output_folder(kind: str, config: dict, out: str | None):
    from alignsmith.curate.core.runs import RunFolder
    return RunFolder.open(kind, config, out)


def _require_items(run) -> None:
    """`eval ifeval` writes the official IFEval files, not per-item rows: say which command makes a comparable run."""
    from alignsmith.curate.core.errors import InputError
    if run.task_versions:
        return
    config = run.config
    if config.get("task") == "ifeval":
        raise InputError("an `eval ifeval` run holds the official IFEval result files, not the per-item rows a "
                         "comparison pairs up; score the same responses into a comparable run with: alignsmith eval "
                         f"run --responses {config.get('responses')} --model LABEL --tasks ifeval "
                         f"--set ifeval.path={config.get('input_data')}", path=str(run.path))
    raise InputError("eval run records no tasks (config.yaml has no `tasks`); compare needs runs made by "
                     "`alignsmith eval run`", path=str(run.path))


def _compare(args: argparse.Namespace) -> int:
    from alignsmith.evaluate.compare import compare_markdown, compare_runs, parse_max_drops
    from alignsmith.evaluate.results import load_eval_run
    drops = parse_max_drops(args.max_drop)
    base, new = load_eval_run(args.base), load_eval_run(args.new)
    for run in (base, new):
        _require_items(run)
    result = compare_runs(base, new, alpha=args.alpha, max_drops=drops, seed=args.seed)
    report = compare_markdown(result)
    folder = _output_folder("compare", {"base": str(Path(args.base).resolve()), "new": str(Path(args.new).resolve()),
                                        "alpha": args.alpha, "max_drop": drops, "seed": args.seed}, args.out)
    from alignsmith.curate.core.datafiles import atomic_write_bytes, write_json
    write_json(folder.file("compare.json"), result)
    atomic_write_bytes(folder.file("compare.md"), report.encode("utf-8"))
    folder.mark_done()
    print(report)
    print(f"wrote {folder.path}/compare.json and compare.md", file=sys.stderr)
    return result["exit_code"]


def _power(args: argparse.Namespace) -> int:
    from alignsmith.evaluate.compare_plan import plan, plan_text
    from alignsmith.evaluate.results import load_eval_run
    if not 0 < args.alpha < 1 or not 0 < args.power < 1:
        raise ValueError("--alpha and --power must be between 0 and 1")
    second = load_eval_run(args.pilot_new) if args.pilot_new else None
    result = plan(load_eval_run(args.pilot), second, args.metric, args.effect, alpha=args.alpha, power=args.power)
    print(plan_text(result), end="")
    return 0


def _leaderboard(args: argparse.Namespace) -> int:
    from alignsmith.evaluate.leaderboard import leaderboard, leaderboard_markdown
    from alignsmith.evaluate.results import load_eval_run
    runs = [load_eval_run(r) for r in args.runs]
    board = leaderboard(runs, n_boot=args.bootstrap, seed=args.seed)
    report = leaderboard_markdown(board)
    folder = _output_folder("leaderboard", {"runs": [str(Path(r).resolve()) for r in args.runs],
                                            "n_boot": args.bootstrap, "seed": args.seed}, args.out)
    from alignsmith.curate.core.datafiles import atomic_write_bytes, write_json
    write_json(folder.file("leaderboard.json"), board)
    atomic_write_bytes(folder.file("leaderboard.md"), report.encode("utf-8"))
    folder.mark_done()
    print(report)
    print(f"wrote {folder.path}/leaderboard.json and leaderboard.md", file=sys.stderr)
    return 0


def _runs_ls(args: argparse.Namespace) -> int:
    from alignsmith.evaluate.results import results_index
    rows = results_index(args.root)
    if args.json:
        for row in rows:
            print(json.dumps(row, default=str))
        return 0
    if not rows:
        print("no finished eval runs")
        return 0
    for row in rows:
        if "error" in row:
            print(f"{row['run_id']}  ERROR {row['error']}")
            continue
        metrics = "  ".join(f"{k}={v:.3f}" for k, v in row["metrics"].items() if isinstance(v, (int, float)))
        print(f"{row['run_id']}  {row['model'] or '-'}  {row['tasks']}  {row['started_at']}  {metrics}")
    return 0
