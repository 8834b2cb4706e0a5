"""`alignsmith judge card`: measure a judge on human-labelled pairs into a run folder."""
from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    """Add the judge sub-command (and its `card` action)."""
    p = sub.add_parser("judge", help="judges: `judge card` measures one against human labels")
    group = p.add_subparsers(dest="judge_command", metavar="JUDGE_COMMAND")
    p.set_defaults(func=lambda args: p.print_help() or 0)
    c = group.add_parser("card", help="agreement with human labels, kappa, position bias, cost: a judge card")
    c.add_argument("--judge", required=True, metavar="SPEC",
                   help="llm:<vllm|hf|openai>:<model> (a generative judge) or reward:<model folder> "
                        "(e.g. `alignsmith train rm` output)")
    c.add_argument("--gold", help="JSONL of human-labelled pairs (prompt, chosen = preferred, rejected); "
                                  "default: the HH-RLHF test splits in ../shared/data/hh_rlhf")
    c.add_argument("--per-split", type=int, default=50, help="HH-RLHF pairs per split (default 50)")
    c.add_argument("--skip", type=int, default=0, help="skip this many usable HH-RLHF pairs per split first")
    c.add_argument("--candidate-model", action="append", default=[],
                   help="a model whose answers this judge will judge (warns on self-preference; repeatable)")
    c.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option for an llm judge, e.g. max_model_len=4096 or base_url=... (repeatable)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", help="run folder (default runs/judge_card/<utc>-<hash>)")
    c.set_defaults(func=_card)


def _backend_options(pairs: list[str]) -> dict:
    import yaml
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--backend-option {pair!r}: use KEY=VALUE")
        out[key] = yaml.safe_load(value)
    return out


def _card(args: argparse.Namespace) -> int:
    from alignsmith.curate.core.datafiles import atomic_write_bytes, write_json
    from alignsmith.curate.core.runs import RunFolder, metric
    from alignsmith.curate.judges.cards import CARD_KIND
    from alignsmith.evaluate.judge_card import card_markdown, judge_card, parse_judge_spec
    parse_judge_spec(args.judge)  # a bad spec fails before any folder is made
    if args.per_split < 1 or args.skip < 0:
        raise ValueError("--per-split must be >= 1 and --skip >= 0")
    options = {"backend_options": _backend_options(args.backend_option)}
    config = {"judge": args.judge, "gold": args.gold or "hh_rlhf", "per_split": args.per_split, "skip": args.skip,
              "seed": args.seed, "candidate_models": args.candidate_model, "options": options}
    run = RunFolder.open(CARD_KIND, config, args.out)
    card, rows = judge_card(args.judge, gold=args.gold, per_split=args.per_split, skip=args.skip, seed=args.seed,
                            candidate_models=args.candidate_model, options=options)
    run.write_rows("items", rows)
    ci = card.get("agreement_ci")
    run.write_metrics({
        "judge/agreement": metric(card.get("agreement"), higher_is_better=True, n=card["n_scored"],
                                  ci=tuple(ci) if ci else None),
        "judge/cohen_kappa": metric(card.get("cohen_kappa"), higher_is_better=True, n=card["n_scored"]),
        "judge/position_consistency": metric(card.get("position_consistency"), higher_is_better=True),
        "judge/parse_failure_rate": metric(card.get("parse_failure_rate"), higher_is_better=False)})
    write_json(run.file("card.json"), card)
    text = card_markdown(card)
    atomic_write_bytes(run.file("card.md"), text.encode("utf-8"))
    run.mark_done()
    print(text)
    for w in card["warnings"]:
        print(f"WARNING: {w}", file=sys.stderr)
    print(f"wrote {run.path}", file=sys.stderr)
    return 0
