"""Dataclass configs: defaults that run, YAML presets, every field overridable as a CLI flag."""
from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import InputError

C = TypeVar("C")


def add_config_args(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """Add `--field-name` for every dataclass field (default None, so only given flags override).

    Help text comes from the field's `metadata["help"]`, followed by its default.
    """
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = hints[f.name]
        origin = typing.get_origin(kind)
        text = f.metadata.get("help", "")
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        shown = f" (default: {default!r})" if default not in (None, "", [], {}) else ""
        if kind is bool:
            parser.add_argument(flag, dest=f.name, default=None, action=argparse.BooleanOptionalAction,
                                help=(text + shown).strip() or None)
        elif origin in (list, typing.List) or kind is list:
            item = (typing.get_args(kind) or (str,))[0]
            parser.add_argument(flag, dest=f.name, default=None, action="append",
                                type=item if item in (int, float) else str,
                                help=(text or "repeat for several values") + shown)
        elif origin in (dict, typing.Dict) or kind is dict:
            parser.add_argument(flag, dest=f.name, default=None, type=_json_object,
                                help=(text or "JSON object") + shown)
        else:
            parser.add_argument(flag, dest=f.name, default=None, type=kind if kind in (int, float) else str,
                                help=(text + shown).strip() or None)


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e.msg} at column {e.colno}): {text!r}")
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"key\": 1}}', got {text!r}")
    return value


def load_config(cls: type[C], path: str | None = None, overrides: dict[str, Any] | None = None) -> C:
    """Build `cls` from an optional YAML file, then apply non-None overrides; unknown keys are errors."""
    values: dict[str, Any] = {}
    if path:
        p = Path(path)
        if not p.exists():
            raise InputError("config file does not exist", path=str(p))
        values = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        if not isinstance(values, dict):
            raise InputError("config must be a mapping of field: value", path=str(p))
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InputError(f"unknown config field(s) {unknown}; known: {sorted(names)}", path=path)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None and k in names})
    return cls(**values)


def args_to_overrides(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The dataclass fields given on the command line."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}
