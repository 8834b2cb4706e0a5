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
    """Add `--field-name` for every dataclass field (default None, so only given flags override)."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = hints[f.name]
        origin = typing.get_origin(kind)
        if kind is bool:
            parser.add_argument(flag, dest=f.name, default=None, action=argparse.BooleanOptionalAction)
        elif origin in (list, typing.List):
            parser.add_argument(flag, dest=f.name, default=None, action="append",
                                help="repeat for several values")
        elif origin in (dict, typing.Dict):
            parser.add_argument(flag, dest=f.name, default=None, type=json.loads, help="JSON object")
        else:
            parser.add_argument(flag, dest=f.name, default=None, type=kind if kind in (int, float) else str)


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
