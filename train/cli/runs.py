"""`alignsmith runs show PATH`: what made a checkpoint (its lineage) or a run folder (config + metrics)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers) -> None:
    """Add `runs show`: into the `runs` group train/cli/results.py made (`runs ls`), else a new group."""
    existing = subparsers.choices.get("runs")
    if existing is not None:
        # evaluate may not import train, so `show` joins its group from here (listed after it in main.py).
        group = next(a for a in existing._actions if isinstance(a, argparse._SubParsersAction))
    else:
        p = subparsers.add_parser("runs", help="inspect run folders and checkpoints")
        group = p.add_subparsers(dest="runs_command", metavar="SUBCOMMAND")
        p.set_defaults(func=lambda args: p.print_help() or 0)
    add_show(group)


def add_show(group) -> None:
    """`runs show PATH`."""
    s = group.add_parser("show", help="print a checkpoint's lineage or a run folder's config and metrics")
    s.add_argument("path", help="checkpoint folder (with alignsmith_lineage.json) or run folder")
    s.add_argument("--json", action="store_true", help="print raw JSON")
    s.set_defaults(func=run_show)


def describe(path: str | Path) -> dict:
    """The record to show for a path: lineage for checkpoints, config + metrics for run folders."""
    from ..lineage import LINEAGE_FILE, read_lineage
    path = Path(path)
    if (path / LINEAGE_FILE).exists():
        return read_lineage(path)
    if (path / "config.yaml").exists():
        from alignsmith.curate.core.runs import RunFolder
        run = RunFolder(path)
        return {"run": str(path), "done": run.done, "config": run.read_config(), "metrics": run.read_metrics()}
    raise FileNotFoundError(f"{path}: neither a checkpoint (no {LINEAGE_FILE}) nor a run folder (no config.yaml)")


def run_show(args) -> int:
    """Print the record as YAML (readable) or JSON."""
    import yaml
    record = describe(args.path)
    if args.json:
        print(json.dumps(record, indent=2, default=str))
    else:
        print(yaml.safe_dump(json.loads(json.dumps(record, default=str)), sort_keys=False), end="")
    return 0
