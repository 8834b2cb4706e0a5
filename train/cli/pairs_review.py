"""`alignsmith pairs apply-review` and `alignsmith pairs sample-audit`: human review of a finished pairs run.

Agreement between reviewers (and with the judge) is `alignsmith reviews agreement` (train/cli/reviews.py):
kappa and confusion tables are statistics, which live on the evaluate floor.
"""
from __future__ import annotations


def register_review_actions(pairs_parser) -> None:
    """Add the review actions under the `pairs` command (a bare `alignsmith pairs ...` still builds pairs)."""
    actions = pairs_parser.add_subparsers(dest="pairs_action", metavar="ACTION", required=False,
                                          title="review actions (optional; without one, `pairs` builds pairs)")
    a = actions.add_parser("apply-review", help="write a NEW run with human review decisions applied",
                           description="Applies reviews (reject, swap, edit, blind labels) to a finished pairs "
                                       "run and writes a new pairs run with an updated card; on a curate run "
                                       "(reject, edit) a new curate run. The source is untouched.")
    a.add_argument("run", help="the finished pairs (or curate) run folder that was reviewed")
    a.add_argument("--reviews", nargs="+", metavar="FILE",
                   help="reviews file(s) (default: the run's own <run>.reviews.jsonl beside its folder)")
    a.add_argument("--out", help="new run folder to write (default: runs/pairs/<utc>-<hash>)")
    a.set_defaults(func=run_apply_review)
    s = actions.add_parser("sample-audit", help="pick pairs for a quality audit, stratified by margin and category",
                           description="Writes a JSONL sample (default: <run>.audit.jsonl beside the run folder); "
                                       "the dashboard's Review page can page through only these items.")
    s.add_argument("run", help="a finished pairs run folder")
    s.add_argument("--n", type=int, required=True, help="how many pairs to sample")
    s.add_argument("--seed", type=int, default=0, help="seed of the draw within each stratum")
    s.add_argument("--bands", type=int, default=4, help="margin bands (equal-count quantile bands)")
    s.add_argument("--out", help="JSONL file to write (default: <run>.audit.jsonl beside the run folder)")
    s.set_defaults(func=run_sample_audit)


def run_apply_review(args) -> int:
    """Apply the reviews and print what was done."""
    from alignsmith.curate.pairs.review_apply import apply_reviews
    from alignsmith.curate.pairs.reviews import reviews_path
    files = args.reviews or [str(reviews_path(args.run))]
    run = apply_reviews(args.run, files, args.out)
    import json
    pairs = run.file("card.json").exists()
    summary = json.loads(run.file("card.json" if pairs else "report.json").read_text(encoding="utf-8"))["review"]
    outcome = ", ".join(f"{k} {v}" for k, v in summary["outcome"].items())
    total = summary["pairs_in"] if pairs else summary["rows_in"]
    print(f"apply-review: {summary['records']} records from {len(summary['reviewers'])} reviewer(s) on "
          f"{summary['items_reviewed']} of {total} {'pairs' if pairs else 'rows'} -> {outcome}")
    files_written = "dpo.parquet, dropped_pairs.parquet, card.md, card.json" if pairs else \
        "kept.parquet, dropped.parquet, report.json"
    print(f"wrote {run.path}/ ({files_written}); {args.run} is unchanged")
    return 0


def run_sample_audit(args) -> int:
    """Draw the audit sample and print its strata."""
    from collections import Counter

    from alignsmith.curate.pairs.review_audit import write_audit_sample
    target, picked = write_audit_sample(args.run, args.n, seed=args.seed, bands=args.bands, out=args.out)
    for stratum, count in sorted(Counter(p["stratum"] for p in picked).items()):
        print(f"  {count:5d}  {stratum}")
    print(f"sample-audit: {len(picked)} pairs from {len(Counter(p['stratum'] for p in picked))} strata -> {target}")
    return 0
