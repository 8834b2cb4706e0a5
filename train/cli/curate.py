"""`alignsmith curate`: the filter pipeline, plus `curate dedup` and `curate decontam` on single files."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("curate", help="filter candidates (format, safety, dedup, decontam) with a funnel",
                       description="Apply a YAML list of filters and scorers to candidates; writes kept.parquet, "
                                   "dropped.parquet (each with drop_reason) and report.json in a run folder. "
                                   "Sub-commands `dedup` and `decontam` work on a single JSONL/Parquet file.")
    p.add_argument("--input", help="a generate run folder (candidates/*.parquet + prompts.parquet) or a "
                                   "Parquet/JSONL file of rows")
    p.add_argument("--config", help="curate YAML: a list of steps ({filter: NAME, opts...} or {scorer: NAME}); "
                                    "default: the packaged empty/truncated/leakage/repetition config")
    p.add_argument("--out", help="run folder to write (default: runs/curate/<utc>-<hash>)")
    p.add_argument("--text-field", default="response", help="the text the filters look at (default: response)")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="ray: run the steps on Ray Data (same output as local)")
    p.set_defaults(func=run_curate)
    group = p.add_subparsers(dest="curate_command", metavar="SUBCOMMAND")
    add_dedup(group)
    add_decontam(group)


def add_dedup(group) -> None:
    """The `curate dedup` sub-command; its flags' help is DedupConfig's and MinHashConfig's field help."""
    from alignsmith.curate.core.config import field_help
    from alignsmith.curate.dedup.settings import DedupConfig, MinHashConfig

    def dedup(name: str, default=None, cls=DedupConfig) -> str:
        return field_help(cls, name) + (f" (default: {default})" if default is not None else "")

    def minhash(name: str, default=None) -> str:
        return dedup(name, default, MinHashConfig)

    d = group.add_parser("dedup", help="drop duplicate rows of one file (exact, minhash or semantic)",
                         description="Writes OUT/kept.jsonl and OUT/dropped.jsonl (each dropped row names "
                                     "duplicate_of; unusable rows are quarantined with an input: reason).")
    d.add_argument("--input", required=True, help="JSONL/JSON/CSV/Parquet file of rows")
    d.add_argument("--text-field", default="text", help=dedup("text_field", "text"))
    d.add_argument("--id-field", default="id", help=dedup("id_field", "id"))
    d.add_argument("--method", choices=("exact", "minhash", "semantic"), default="minhash",
                   help=dedup("method", "minhash"))
    d.add_argument("--threshold", type=float, help=dedup("threshold"))
    d.add_argument("--keep", choices=("first", "score"), default="first", help=dedup("keep", "first"))
    d.add_argument("--score-field", help=dedup("score_field"))
    d.add_argument("--against", action="append", default=[], metavar="PATH",
                   help="another dataset (same text/id fields): its rows count as already kept; repeatable")
    d.add_argument("--shingle", choices=("char", "word"), default="char", help=minhash("shingle", "char"))
    d.add_argument("--ngram", type=int, default=5, help=minhash("ngram", 5))
    d.add_argument("--num-perm", type=int, default=128, help=minhash("num_perm", 128))
    d.add_argument("--bands", type=int, help=minhash("bands"))
    d.add_argument("--rows", type=int, help=minhash("rows"))
    d.add_argument("--seed", type=int, default=0, help=minhash("seed", 0))
    d.add_argument("--workers", type=int, default=1, help=dedup("workers", 1))
    d.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="ray: find MinHash pairs with a Ray Data shuffle by band (same output as local)")
    d.add_argument("--out", required=True, help="output folder")
    d.set_defaults(func=run_dedup)


def add_decontam(group) -> None:
    """The `curate decontam` sub-command."""
    c = group.add_parser("decontam", help="drop rows whose prompt overlaps eval prompts",
                         description="13-gram overlap (or containing a short eval prompt whole) plus MinHash "
                                     "near-duplicates against IFEval, XSTest, AlpacaEval, HarmBench and the "
                                     "built-in held-out prompts; writes OUT/kept.jsonl and OUT/dropped.jsonl.")
    c.add_argument("--input", required=True)
    c.add_argument("--text-field", default="prompt")
    c.add_argument("--sets", help="comma-separated eval sets (default: all built-in)")
    c.add_argument("--extra", action="append", default=[], metavar="PATH[:FIELD]",
                   help="another eval set file and its text field (default field: prompt); repeatable")
    c.add_argument("--data", help="folder of the public eval data (default: $ALIGNSMITH_DATA or ../shared/data)")
    c.add_argument("--ngram", type=int, default=13)
    c.add_argument("--near-dup-threshold", type=float, default=0.5)
    c.add_argument("--no-near-dup", action="store_true")
    c.add_argument("--out", required=True)
    c.set_defaults(func=run_decontam)


def _clean(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "_line"} for r in rows]


def run_curate(args) -> int:
    """Run the pipeline on --input with --config into a run folder; print the funnel."""
    from alignsmith.curate.core.errors import InputError
    from alignsmith.curate.pipeline.run import curate_run, format_funnel, load_config, load_input
    if not args.input:
        raise InputError("curate needs --input (or a sub-command: dedup, decontam)")
    from alignsmith.curate.core.quarantine import require_field
    config = load_config(args.config)
    rows, bad = load_input(args.input)
    require_field(rows, args.text_field, str(args.input))
    run = curate_run(rows, (), config, input_path=str(args.input), out=args.out, executor=args.executor,
                     quarantined_rows=bad, text_field=args.text_field)
    report = json.loads(run.file("report.json").read_text())
    print(format_funnel(report))
    print(f"curate: wrote {run.path}/kept.parquet ({report['rows_out']}), "
          f"dropped.parquet ({report['dropped_total']}), report.json")
    return 0


def _already_done(kind: str, config: dict, out) -> bool:
    """Before any work: True (and say so) when `out` already holds this config's finished run; a finished
    folder of another config or input content is refused by RunFolder.finished (fields listed)."""
    from alignsmith.curate.core.runs import RunFolder
    finished = RunFolder.finished(kind, config, out)
    if finished is not None:
        print(f"{kind}: {finished.path} already holds this config's finished run (same input content); "
              "nothing to redo")
    return finished is not None


def _write_split(out, kind: str, config: dict, kept: list[dict], dropped: list[dict], extra: dict) -> None:
    from alignsmith.curate.core.datafiles import write_json, write_jsonl
    from alignsmith.curate.core.runs import RunFolder
    run = RunFolder.open(kind, config, out=out)
    write_jsonl(run.file("kept.jsonl"), _clean(kept))
    write_jsonl(run.file("dropped.jsonl"), dropped)
    reasons: dict[str, int] = {}
    for r in dropped:
        key = r["drop_reason"].split(":")[0]
        reasons[key] = reasons.get(key, 0) + 1
    write_json(run.file("report.json"), {"rows_in": len(kept) + len(dropped), "kept": len(kept),
                                         "dropped": len(dropped), "dropped_by": reasons, **extra, "config": config})
    run.mark_done()
    print(f"{kind}: {len(kept) + len(dropped)} rows -> {len(kept)} kept, {len(dropped)} dropped "
          f"{json.dumps(reasons)}; wrote {run.path}/kept.jsonl, dropped.jsonl")


def run_dedup(args) -> int:
    """Dedup one file into OUT/kept.jsonl and OUT/dropped.jsonl."""
    from alignsmith.curate.core.datafiles import read_rows
    from alignsmith.curate.core.quarantine import read_rows_quarantined, require_field
    from alignsmith.curate.core.run_state import input_fingerprint
    from alignsmith.curate.dedup import DedupConfig, MinHashConfig, dedup_rows
    cfg = DedupConfig(method=args.method, threshold=args.threshold, text_field=args.text_field,
                      id_field=args.id_field, keep=args.keep, score_field=args.score_field,
                      workers=args.workers,
                      minhash=MinHashConfig(shingle=args.shingle, ngram=args.ngram, num_perm=args.num_perm,
                                            bands=args.bands, rows=args.rows, seed=args.seed))
    config = {"input": args.input, "against": args.against, "method": args.method,
              "threshold": cfg.resolved_threshold(), "text_field": args.text_field, "id_field": args.id_field,
              "keep": args.keep, "score_field": args.score_field, "minhash": vars(cfg.minhash),
              "inputs": [input_fingerprint(p) for p in [args.input, *args.against]]}
    if _already_done("dedup", config, args.out):
        return 0
    rows, bad = read_rows_quarantined(args.input)
    require_field(rows, args.text_field, args.input)
    reference = [r for path in args.against for r in read_rows(path)]
    if args.executor == "ray":
        from alignsmith.curate.pipeline.ray_executor import dedup_rows_ray
        kept, dropped = dedup_rows_ray(rows, cfg, reference)
    else:
        kept, dropped = dedup_rows(rows, cfg, reference)
    for r in bad:
        r["duplicate_of"] = None
    _write_split(args.out, "dedup", config, kept, bad + dropped, {"method": args.method})
    return 0


def run_decontam(args) -> int:
    """Decontaminate one file into OUT/kept.jsonl and OUT/dropped.jsonl."""
    from alignsmith.curate.core.quarantine import quarantined, read_rows_quarantined, require_field, text_problem
    from alignsmith.curate.core.run_state import input_fingerprint
    from alignsmith.curate.steps.decontam import decontaminate
    extra = []
    for spec in args.extra:
        path, _, field = spec.partition(":")
        extra.append({"path": path, "field": field or "prompt"})
    sets = args.sets.split(",") if args.sets else None
    config = {"input": args.input, "text_field": args.text_field, "sets": sets, "extra": extra,
              "ngram": args.ngram, "near_dup": not args.no_near_dup, "near_dup_threshold": args.near_dup_threshold,
              "inputs": [input_fingerprint(p) for p in [args.input, *(e["path"] for e in extra)]]}
    if _already_done("decontam", config, args.out):
        return 0
    rows, bad = read_rows_quarantined(args.input)
    require_field(rows, args.text_field, args.input)
    usable = [r for r in rows if text_problem(r, args.text_field) is None]
    bad += [quarantined(r, text_problem(r, args.text_field)) for r in rows if text_problem(r, args.text_field)]
    kept, dropped = decontaminate(usable, field=args.text_field, ngram=args.ngram, sets=sets, extra=extra,
                                  data=args.data, near_dup=not args.no_near_dup,
                                  near_dup_threshold=args.near_dup_threshold)
    _write_split(args.out, "decontam", config, kept, bad + dropped, {})
    return 0
