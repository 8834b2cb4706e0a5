"""The `alignsmith` entry point. It sits in `train`, the top floor that may import every stage.

Each area registers its own sub-commands from a small module with `register(subparsers)`; those
modules import heavy libraries only inside the functions they call, so `alignsmith --help` is fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from alignsmith.curate.core.errors import InputError

# Modules that add sub-commands, in --help order. Each defines register(subparsers).
COMMAND_MODULES = [
    "alignsmith.train.cli.models",
    "alignsmith.train.cli.generate",
    "alignsmith.train.cli.prompts",
    "alignsmith.train.cli.curate",
    "alignsmith.train.cli.pairs",
    "alignsmith.train.cli.data",
    "alignsmith.train.cli.detect",
    "alignsmith.train.cli.eval",
    "alignsmith.train.cli.results",
    "alignsmith.train.cli.winrates",
    "alignsmith.train.cli.judge",
    "alignsmith.train.cli.reviews",
    "alignsmith.train.cli.train",
    "alignsmith.train.cli.runs",
    "alignsmith.train.cli.demo",
    "alignsmith.train.cli.recipe",
    "alignsmith.train.cli.dashboard",
]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every sub-command)."""
    parser = argparse.ArgumentParser(prog="alignsmith",
                                     description="Preference data, alignment training and regression evals.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen sub-command; user errors print one clear line, exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        result = args.func(args)
    except (InputError, FileNotFoundError, KeyError, ValueError) as e:
        if isinstance(e, KeyError) and type(e) is KeyError:
            raise
        print(f"alignsmith {args.command}: error: {e}", file=sys.stderr)
        return 2
    except ImportError as e:
        # A named part (filter, scorer, backend, task...) or an optional extra whose module cannot be
        # imported: a missing package or a broken module, said in one line instead of a traceback.
        notes = "; ".join(getattr(e, "__notes__", []))
        print(f"alignsmith {args.command}: error: {e}{f' ({notes})' if notes else ''}. Install the missing "
              "package (e.g. the extra named in README) or fix that module.", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
