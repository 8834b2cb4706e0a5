"""`alignsmith data import`: open instruction and preference datasets in, as alignsmith rows in a run folder."""
from __future__ import annotations

FORMATS = ("auto", "alpaca", "sharegpt", "openai", "hh-rlhf", "ultrafeedback")


def register(sub) -> None:
    """Add the `data` sub-command and its `import` sub-command."""
    p = sub.add_parser("data", help="bring existing datasets in (Alpaca, ShareGPT, OpenAI, HH-RLHF, UltraFeedback)",
                       description="Work with datasets from elsewhere. `data import` reads one file and writes a "
                                   "run folder that generate, pairs and train read directly.")
    group = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    i = group.add_parser("import", help="read an open dataset into prompt, SFT and pair rows",
                         description="Writes prompts.parquet, sft.parquet and dpo.parquet (where the source has "
                                     "preferences) plus quarantine.parquet (every skipped row with its line, field "
                                     "and reason), card.md, metrics.json and DONE. Train on it with "
                                     "`alignsmith train sft|dpo --dataset RUN`.")
    i.add_argument("--format", choices=FORMATS, default="auto",
                   help="source schema (default auto: decided from the first rows' fields)")
    i.add_argument("--input", required=True, help="JSONL (optionally .gz), JSON, CSV or Parquet file")
    i.add_argument("--out", help="run folder to write (default: runs/import/<utc>-<hash>)")
    i.add_argument("--alpaca-join", choices=("newline", "template"), default="newline",
                   help="alpaca: how `input` joins the instruction: newline (instruction, blank line, input; "
                        "default) or template (the full Stanford Alpaca prompt)")
    i.add_argument("--turns", choices=("last", "all"), default="last",
                   help="sharegpt/openai: SFT row for the last reply only (earlier turns as context), or one "
                        "per assistant reply")
    i.add_argument("--rating", default="fine-grained_score",
                   help="ultrafeedback: which rating ranks completions: fine-grained_score (default), "
                        "overall_score, mean_aspects, or another numeric field")
    i.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="ultrafeedback: override a pairs config field (e.g. --set min_margin=1 "
                        "--set max_chosen_longer_share=null); repeatable")
    i.add_argument("--exclude-gold", metavar="hh-rlhf|FILE",
                   help="hold a judge card's gold out of the rows: `hh-rlhf` (the HH-RLHF test pairs `judge card` "
                        "uses by default) or a gold JSONL file (as `judge card --gold FILE`); every pair that is a "
                        "gold item (same prompt, same two answers) goes to quarantine.parquet with its gold_item")
    i.add_argument("--gold-per-split", type=int, default=50, metavar="N",
                   help="with --exclude-gold hh-rlhf: hold out the first N usable pairs of each split (default 50, "
                        "the card's default; N covers every `judge card --per-split P --skip S` with P+S <= N)")
    i.add_argument("--strict", action="store_true",
                   help="stop at the first unusable row (error names file, line, field) instead of "
                        "quarantining it")
    i.set_defaults(func=run_import)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def run_import(args) -> int:
    """Handler: import the file and print the summary."""
    from alignsmith.curate.importers.held_out import gold_hold_out
    from alignsmith.curate.importers.run import import_dataset

    from .pairs import load_config
    overrides = load_config(None, args.set)
    hold_out = gold_hold_out(args.exclude_gold, args.gold_per_split) if args.exclude_gold else None
    result = import_dataset(args.input, args.format, args.out, strict=args.strict,
                            options={"alpaca_join": args.alpaca_join, "turns": args.turns, "rating": args.rating},
                            pairs_overrides=overrides, hold_out=hold_out)
    print(result.summary())
    return 0
