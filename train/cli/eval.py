"""`alignsmith eval ...`: evaluation sub-commands (each adds itself to the `eval` group below)."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("eval", help="evaluate models or score existing responses")
    group = p.add_subparsers(dest="eval_command", metavar="EVAL_COMMAND")
    p.set_defaults(func=lambda args: p.print_help() or 0)
    # Each eval sub-command registers itself here: add_<name>(group).
    for add in _EVAL_COMMANDS:
        add(group)


_EVAL_COMMANDS: list = []

from alignsmith.evaluate.ifeval_files import add_ifeval  # noqa: E402  (light module; scoring imports are lazy)

_EVAL_COMMANDS.append(add_ifeval)

from .eval_run import add_run  # noqa: E402  (light module; the runner is imported when it runs)

_EVAL_COMMANDS.append(add_run)
