"""`alignsmith reviews agreement`: how far reviewers agree with each other and with the judge.

(`pairs apply-review` and `pairs sample-audit` live with the pairs command in train/cli/pairs_review.py;
agreement is statistics, so it sits on the evaluate floor under its own command.)
"""
from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    """Add `reviews agreement`."""
    p = sub.add_parser("reviews", help="human reviews of pairs runs: agreement (kappa) and gold export")
    actions = p.add_subparsers(dest="reviews_action", metavar="ACTION", required=True)
    a = actions.add_parser("agreement", help="Cohen's kappa + confusion tables between reviewers and vs the judge",
                           description="Reads reviews files (blind labels and verdicts); prints, per pair of "
                                       "reviewers, kappa and the confusion table on shared items; per reviewer, "
                                       "agreement with the LLM judge and with the build's chosen side; can "
                                       "export the human labels as a gold JSONL file for a judge card.")
    a.add_argument("--reviews", nargs="+", required=True, metavar="FILE", help="reviews file(s) of one run")
    a.add_argument("--run", help="the reviewed pairs run (default: the folder beside the first reviews file)")
    a.add_argument("--gold-out", metavar="FILE", help="also write majority human labels as gold JSONL for "
                                                      "`alignsmith judge card --gold` (prompt, chosen = "
                                                      "preferred, rejected; plus response_a/b and label A/B)")
    a.add_argument("--gold-ties", action="store_true",
                   help="also write majority ties to the gold file (without chosen/rejected: the judge card "
                        "needs a preferred answer and refuses them)")
    a.add_argument("--json", action="store_true", help="print the tables as one JSON object")
    a.set_defaults(func=run_agreement)


def default_run(reviews_file: str) -> Path:
    """`<run>.reviews.jsonl` -> the `<run>` folder beside it."""
    path = Path(reviews_file)
    name = path.name.removesuffix(".reviews.jsonl")
    return path.with_name(name)


def agreement_report(run: Path, files: list[str]) -> dict:
    """Every agreement table for the reviews in `files` on `run` (checked to belong to it)."""
    from alignsmith.curate.pairs.reviews import read_reviews_for
    from alignsmith.evaluate.reviews import agreement_with, judge_labels, labels_by_reviewer, reviewer_agreement
    records = read_reviews_for(run, files)
    labelled = {i for labels in labels_by_reviewer(records).values() for i in labels}
    judge = judge_labels(run)
    return {"run": str(run), "records": len(records),
            "reviewers": sorted({r["reviewer"] for r in records}), "labelled_items": len(labelled),
            "between_reviewers": reviewer_agreement(records, "label") + reviewer_agreement(records, "verdict"),
            "vs_judge": agreement_with(records, judge, "judge") if judge else [],
            "vs_build": [{**e, "kappa": None}  # the build always prefers `chosen`: kappa is 0 by construction
                         for e in agreement_with(records, {i: "chosen" for i in labelled}, "build chosen")],
            "_records": records}


def format_table(entry: dict) -> str:
    """One agreement entry as text: header line plus the confusion table."""
    kappa = "undefined" if entry["kappa"] is None else f"{entry['kappa']:.3f}"
    if entry["b"] == "build chosen":
        kappa = "n/a (constant reference)"
    observed = "n/a" if entry["observed_agreement"] is None else f"{entry['observed_agreement']:.3f}"
    lines = [f"{entry['kind']}: {entry['a']} vs {entry['b']}: n={entry['n']} kappa={kappa} agreement={observed}"]
    if entry["n"]:
        width = max(10, *(len(c) for c in entry["categories"])) + 1
        lines.append(" " * width + "".join(f"{c:>{width}}" for c in entry["categories"]) + f"   ({entry['b']} ->)")
        for category, row in zip(entry["categories"], entry["confusion"]):
            lines.append(f"{category:>{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


def run_agreement(args) -> int:
    """Print the agreement tables; optionally write the gold file."""
    from alignsmith.curate.core.errors import InputError
    from alignsmith.curate.core.runs import is_done
    run = Path(args.run) if args.run else default_run(args.reviews[0])
    if not is_done(run):
        raise InputError("no finished run folder here; pass --run RUN (the reviewed pairs run)", path=str(run))
    report = agreement_report(run, args.reviews)
    records = report.pop("_records")
    if args.gold_out:
        from alignsmith.evaluate.reviews import gold_rows, write_gold
        rows, left_out = gold_rows(run, records, ties=args.gold_ties)
        write_gold(args.gold_out, rows)
        report["gold"] = {"path": args.gold_out, "rows": len(rows), **left_out}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['records']} records by {', '.join(report['reviewers'])}; {report['labelled_items']} items "
          f"with blind labels ({run})")
    for entry in report["between_reviewers"] + report["vs_judge"] + report["vs_build"]:
        print(format_table(entry))
    if not report["vs_judge"]:
        print("vs judge: this run has no pairwise LLM-judge verdicts (judgements.jsonl)")
    if "gold" in report:
        g = report["gold"]
        print(f"gold: {g['rows']} rows -> {g['path']} (left out: {g['no_majority']} items without a majority "
              f"label, {g['ties']} majority ties); use it with `alignsmith judge card --gold {g['path']}`")
    return 0
