"""`alignsmith pairs`: preference pairs, SFT rows and PPO prompts from curated candidates, with a card."""
from __future__ import annotations

from pathlib import Path

from .pairs_review import register_review_actions


def register(sub) -> None:
    p = sub.add_parser("pairs", help="build DPO pairs, SFT rows and PPO prompts from curated candidates",
                       description="Score, rank and pair candidates; writes dpo/sft/prompts Parquet, every "
                                   "dropped pair with its reason, and card.md/card.json in a run folder.")
    p.add_argument("--input",
                   help="a curate run folder (reads kept.parquet) or a Parquet/JSONL file of candidate rows")
    p.add_argument("--config", help="pairs YAML (fields of PairsConfig); defaults run without one")
    p.add_argument("--out", help="run folder to write (default: runs/pairs/<utc>-<hash>)")
    p.add_argument("--strategy", help="pair strategy: best_vs_worst, best_vs_random_lower, all_above_margin")
    p.add_argument("--min-margin", type=float, help="drop pairs whose score margin is smaller")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config field, YAML value; dots reach nested keys "
                        "(e.g. --set scorers.judge.mode=pointwise); repeatable")
    p.add_argument("--push-to-hub", metavar="REPO_ID", help="also upload the outputs to this hub dataset repo")
    p.add_argument("--print-config", action="store_true",
                   help="print the resolved config as YAML, each field with its help as a comment (a "
                        "starting pairs.yaml), and exit")
    p.set_defaults(func=run)
    # Human review of a finished run: `pairs apply-review`, `pairs sample-audit` (train/cli/pairs_review.py).
    register_review_actions(p)


def resolve_input(path: str) -> Path:
    """The candidate file: `kept.parquet` inside a curate run folder, or the given file."""
    from alignsmith.curate.core.errors import InputError
    from alignsmith.curate.core.runs import is_done
    given = Path(path)
    if given.is_dir():
        kept = given / "kept.parquet"
        if not kept.exists():
            raise InputError("folder has no kept.parquet; pass a curate run folder or a candidates file",
                             path=str(given))
        if not is_done(given):
            raise InputError("curate run is unfinished (no DONE); finish or resume it first", path=str(given))
        return kept
    return given


def load_config(path: str | None, overrides: list[str]) -> dict:
    """The config mapping from YAML (a `pairs:` section or the whole file) plus KEY=VALUE overrides,
    both read by the one config loader (`curate.core.config`): `1e-3` is a number, `yes` stays text."""
    from alignsmith.curate.core.config import apply_set, check_fields, read_yaml_file
    from alignsmith.curate.core.errors import InputError
    from alignsmith.curate.pairs.build import PairsConfig
    data: dict = {}
    if path:
        loaded = read_yaml_file(path) or {}
        if not isinstance(loaded, dict):
            raise InputError("expected a mapping of config fields", path=path)
        data = loaded.get("pairs", loaded) if isinstance(loaded.get("pairs"), dict) else loaded
        check_fields(PairsConfig, data, "pairs config", path=path)  # so a mistake names the file
    return apply_set(data, overrides)


def run(args) -> int:
    from alignsmith.curate.core.datafiles import read_rows
    from alignsmith.curate.pairs.build import PairsConfig, build_pairs
    from alignsmith.curate.pairs.export import push_to_hub, write_pairs_run
    data = load_config(args.config, args.set)
    if args.strategy:
        data["strategy"] = args.strategy
    if args.min_margin is not None:
        data["min_margin"] = args.min_margin
    config = PairsConfig.from_dict(data)
    if args.print_config:
        from alignsmith.curate.core.config import commented_yaml
        print(commented_yaml(config), end="")
        return 0
    if not args.input:
        raise ValueError("--input is required (a curate run folder or a candidates file)")
    from alignsmith.curate.core.errors import InputError
    from alignsmith.curate.core.run_state import input_fingerprint
    from alignsmith.curate.core.runs import RunFolder
    from alignsmith.curate.pairs.export import pairs_run_config
    source = resolve_input(args.input)
    inputs = [input_fingerprint(source)]
    finished = RunFolder.finished("pairs", pairs_run_config(config, str(source), inputs), args.out)
    if finished is not None:
        print(f"pairs: {finished.path} already holds this config's finished run (same input content); "
              "nothing to redo")
        return 0
    rows = read_rows(source)
    if not rows:
        raise InputError("no candidate rows: nothing to pair (did curate drop everything? see its "
                         "dropped.parquet and report.json)", path=str(source))
    try:
        result = build_pairs(rows, None, config)
    except InputError as e:
        if e.path != "candidate rows":
            raise
        raise InputError(e.reason, path=str(source), line=e.line, field=e.field) from None
    run_folder = write_pairs_run(result, args.out, input_path=str(source), inputs=inputs)
    s = result.stats
    print(f"pairs: {s['candidates_in']} candidates for {s['prompts_in']} prompts -> {s['pairs_out']} pairs "
          f"({len(result.dropped_pairs)} proposals dropped, reasons in card.md), {s['sft_rows']} SFT rows")
    if not result.pairs:
        print("warning: no pair survived the rules; see the drop reasons in card.md (an empty Parquet file "
              "cannot be loaded by datasets)")
    print(f"wrote {run_folder.path}/ (dpo.parquet, sft.parquet, prompts.parquet, card.md, card.json)")
    if args.push_to_hub:
        print(f"pushed to {push_to_hub(run_folder.path, args.push_to_hub)}")
    return 0
