"""`alignsmith winrates`: raw and AlpacaEval length-controlled win rates from existing judge annotations."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    """Add the winrates sub-command; the fit's flags take their help from LCSettings' fields."""
    from alignsmith.curate.core.config import field_help
    from alignsmith.evaluate.lc_settings import LCSettings

    def h(name: str, default) -> str:
        return f"{field_help(LCSettings, name)} (default: {default})"

    p = sub.add_parser("winrates", help="raw and length-controlled (AlpacaEval-LC) win rates from annotations")
    p.add_argument("--annotations", nargs="+", required=True, metavar="FILE",
                   help="AlpacaEval annotations.json[.gz], annotation JSONL[.gz] (full or compact with "
                        "len_1/len_2), or alignsmith eval run folders with winrate items")
    p.add_argument("--format", default="auto", choices=["auto", "alpaca_eval", "jsonl", "eval_run"],
                   help="how to read the files (default: by name; a folder is an eval run)")
    p.add_argument("--out", required=True, metavar="FILE.csv",
                   help="per-model CSV (generator, n, win_rate, lc_win_rate, lc_ci_low, lc_ci_high, in percent); "
                        "fit notes and exclusions go next to it as FILE.notes.json")
    p.add_argument("--write-runs", action="store_true",
                   help="also write one eval run folder per model (read by leaderboard, compare, dashboard)")
    p.add_argument("--runs-root", help="root for those run folders (default $ALIGNSMITH_RUNS or ./runs)")
    p.add_argument("--bootstrap", type=int, default=200, help=h("n_boot", 200))
    p.add_argument("--seed", type=int, default=0, help=h("seed", 0))
    p.add_argument("--min-items", type=int, default=10, help=h("min_items", 10))
    p.add_argument("--reg-lambda", type=float, default=0.5, help=h("reg_lambda", 0.5))
    p.add_argument("--length-reference", metavar="CSV|DIR",
                   help="the baseline's own concise/verbose judgements as the length regulariser, as AlpacaEval "
                        "uses them: upstream's df_gamed.csv, or an alpaca_eval checkout (lengths from results/"
                        "<baseline>_concise|_verbose/model_outputs.json, verdicts from their annotations or "
                        "published GLM weights); without it, length variants among the annotations are used")
    p.add_argument("--reference-lambda", type=float, default=0.2, help=h("reference_lambda", 0.2))
    p.add_argument("--alpaca-eval-row-order", action="store_true", help=h("row_order_difficulty", False))
    p.add_argument("--difficulty", metavar="CSV",
                   help="a fixed instruction-difficulty table (position, instruction_difficulty: upstream's "
                        "instruction_difficulty.csv or one saved by --save-difficulty) instead of the joint fit over "
                        "the files given, so a model's LC does not depend on which other models are in them")
    p.add_argument("--save-difficulty", metavar="CSV", help="write the instruction difficulties this fit used")
    p.set_defaults(func=_winrates)


def _winrates(args: argparse.Namespace) -> int:
    from alignsmith.evaluate.lc_glm import LCSettings
    from alignsmith.evaluate.winrates import compute_winrates
    if args.bootstrap < 0 or args.min_items < 1:
        raise ValueError("--bootstrap must be >= 0 and --min-items >= 1")
    settings = LCSettings(n_boot=args.bootstrap, seed=args.seed, min_items=args.min_items,
                          reg_lambda=args.reg_lambda, reference_lambda=args.reference_lambda,
                          row_order_difficulty=args.alpaca_eval_row_order)
    result = compute_winrates(args.annotations, fmt=args.format, out=args.out, runs_root=args.runs_root,
                              write_runs=args.write_runs, settings=settings,
                              length_reference=args.length_reference, difficulty=args.difficulty,
                              save_difficulty=args.save_difficulty)
    print(result["table"].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    notes = result["notes"]
    for model, why in notes["excluded"].items():
        print(f"excluded {model}: {why}", file=sys.stderr)
    if notes["excluded_rows"]:
        print(f"excluded {len(notes['excluded_rows'])} annotation rows without a preference "
              f"(listed in the notes file)", file=sys.stderr)
    for warning in notes["input_warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    for key in ("warning_difficulty", "warning_regularisation"):
        if key in notes:
            print(f"warning: {notes[key]}", file=sys.stderr)
    print(f"wrote {args.out} ({len(result['table'])} models against {notes['baseline']})", file=sys.stderr)
    if result["runs"]:
        print(f"wrote {len(result['runs'])} eval runs, e.g. {result['runs'][0]}", file=sys.stderr)
    return 0
