"""`alignsmith prompts ...`: prompt-set tools (`augment`: add verifiable constraints to plain instructions)."""
from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Add the `prompts` command group."""
    p = sub.add_parser("prompts", help="build prompt sets")
    group = p.add_subparsers(dest="prompts_command", metavar="PROMPTS_COMMAND")
    p.set_defaults(func=lambda args: p.print_help() or 0)
    a = group.add_parser("augment", help="attach 1-3 compatible, verifiable IFEval constraints to each prompt")
    a.add_argument("--input", required=True,
                   help="prompts/instructions: JSONL, JSON, CSV, Parquet or a datasets folder")
    a.add_argument("--out", required=True, help="output JSONL of prompt rows with instruction_id_list + kwargs")
    a.add_argument("--seed", type=int, default=0, help="same seed and input give the same output (default 0)")
    a.add_argument("--min", type=int, default=1, dest="min_constraints", help="fewest constraints per prompt")
    a.add_argument("--max", type=int, default=3, dest="max_constraints", help="most constraints per prompt")
    a.add_argument("--allow", default=None,
                   help="comma-separated instruction ids to draw from (default: all with a template)")
    a.set_defaults(func=_augment)


def _augment(args: Any) -> int:
    from collections import Counter

    from alignsmith.curate.core.datafiles import write_jsonl
    from alignsmith.curate.generate.augment import augment_prompts, load_instructions
    rows, duplicates = load_instructions(args.input)
    allowed = [s.strip() for s in args.allow.split(",") if s.strip()] if args.allow else None
    augmented = augment_prompts(rows, args.seed, args.min_constraints, args.max_constraints, allowed)
    write_jsonl(args.out, augmented)
    used = Counter(i for r in augmented for i in r["instruction_id_list"])
    print(f"wrote {len(augmented)} prompts to {args.out} ({sum(used.values())} constraints, {len(used)} types)"
          + (f"; skipped {len(duplicates)} duplicate prompts" if duplicates else ""))
    return 0
