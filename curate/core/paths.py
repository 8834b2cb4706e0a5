"""Where the public data lives: one resolver for every stage (decontam, eval tasks, judge cards, recipes).

The order: a folder the caller was given, then `$ALIGNSMITH_DATA`, then `../shared/data` from the working
directory, then `shared/data` beside the source checkout. A folder that was asked for by name (argument or
environment) is returned as given even when it is missing, so the caller's error names what the user typed
instead of silently reading another folder.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "ALIGNSMITH_DATA"
# The conventional place, relative to the working directory (what help texts and errors name).
DEFAULT_DATA_DIR = Path("..") / "shared" / "data"


def data_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """The public data folder (see the module docstring); None when nothing was given and none is found."""
    given = explicit or os.environ.get(DATA_ENV)
    if given:
        return Path(given)
    # curate/core/paths.py: parents[2] is the checkout, parents[3] the folder beside it that holds shared/
    beside_checkout = Path(__file__).resolve().parents[3] / "shared" / "data"
    return next((p for p in (Path.cwd() / DEFAULT_DATA_DIR, beside_checkout) if p.is_dir()), None)


def data_root() -> Path:
    """`data_dir()`, or the conventional `../shared/data` when none is found (callers check existence)."""
    return data_dir() or DEFAULT_DATA_DIR
