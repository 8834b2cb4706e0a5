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
