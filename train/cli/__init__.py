"""The `alignsmith` command line, the top floor: `main.py` builds the parser, one module per command.

Nothing below this package imports it; a command module only parses and calls a plain function.
"""
from .main import build_parser, main

__all__ = ["build_parser", "main"]
