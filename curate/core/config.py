"""Dataclass configs: one YAML loader, one type check, every field overridable as a CLI flag.

Every config file and every `--set KEY=VALUE` / `--a.b VALUE` value in alignsmith goes through
`load_yaml` (YAML 1.1 with two fixes: `1e-3` is a float and only true/false are booleans, so `yes`
stays text and is refused by a numeric field), and every value is checked against its dataclass field's
type with pydantic's TypeAdapter (strict: no text-to-number or bool-to-number conversion) before any
work starts. Unknown keys are errors that name the nearest known key.

Every field of a command's config dataclass is declared with `option(help, default)`, so its meaning, units
and allowed values live next to it once: `add_config_args` puts that text in `--help`, `field_help` lends it
to hand-written flags, and `commented_yaml` prints a config as YAML with it as comments (`--print-config`).
"""
from __future__ import annotations

import argparse
import dataclasses
import difflib
import inspect
import json
import re
import typing
from pathlib import Path
from typing import Any, Iterable, TypeVar

import yaml

from .errors import InputError

C = TypeVar("C")


class _YamlLoader(yaml.SafeLoader):
    """YAML 1.1 minus its two traps: `1e-5` (no dot) is a float, not text; only true/false are booleans
    (`yes`, `no`, `on`, `off` stay text, so TRL's `save_strategy: no` works and `max_similarity: yes`
    is refused instead of read as 1.0)."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d+)[eE][-+]?\d+$"), list("-+0123456789."))


def option(help: str, default: Any = dataclasses.MISSING, *, factory: Any = None, **kwargs: Any) -> Any:
    """A dataclass field with help text: `n: int = option("candidates sampled per prompt", 4)`.

    `factory` builds a fresh default (lists, dicts, sections); with neither default nor factory the field is
    required. Other `dataclasses.field` keywords (repr, compare) pass through.
    """
    if not help or not help.strip():
        raise ValueError("option() needs help text saying what the field does")
    if factory is not None:
        kwargs["default_factory"] = factory
    elif default is not dataclasses.MISSING:
        kwargs["default"] = default
    return dataclasses.field(metadata={"help": help.strip()}, **kwargs)


def field_help(cls: type, name: str) -> str:
    """The help text of field `name` of dataclass `cls` (for flags a command declares by hand)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("help", "")
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def commented_yaml(config: Any, width: int = 100) -> str:
    """A config dataclass instance as YAML, each field preceded by its help as a `#` comment.

    Loading the text back gives `dataclasses.asdict(config)`; nested dataclass sections are indented with
    their own fields' help. A starting config file a user can copy and edit.
    """
    return "".join(_commented_lines(config, 0, width))


def _commented_lines(config: Any, indent: int, width: int) -> list[str]:
    import textwrap
    pad = " " * indent
    lines = []
    for f in dataclasses.fields(config):
        if not f.repr:  # runtime hooks (callables), not settings
            continue
        text = f.metadata.get("help", "")
        if text:
            lines += [f"{pad}# {line}\n" for line in textwrap.wrap(text, max(40, width - indent - 2))]
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            lines.append(f"{pad}{f.name}:\n")
            lines += _commented_lines(value, indent + 2, width)
        else:
            dumped = yaml.safe_dump({f.name: value}, sort_keys=False, width=width - indent)
            lines += [pad + line + "\n" for line in dumped.splitlines()]
    return lines


def load_yaml(text: str, path: str | None = None) -> Any:
    """Parse YAML text with alignsmith's loader; a syntax error names `path`, line and column."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return yaml.load(text, Loader=_YamlLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        where = f" (column {mark.column + 1})" if mark is not None else ""
        context, cmark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if context and cmark is not None and (mark is None or cmark.line != mark.line):
            where += f"; {context} at line {cmark.line + 1}"
        raise InputError(f"invalid YAML: {problem}{where}", path=path or "<text>",
                         line=mark.line + 1 if mark is not None else None) from None


def read_yaml_file(path: str | Path) -> Any:
    """Load a YAML file with `load_yaml`; a missing file is an InputError naming it."""
    p = Path(path)
    if not p.is_file():
        raise InputError("config file does not exist", path=str(p))
    return load_yaml(p.read_text(encoding="utf-8"), str(p))


def parse_value(raw: str) -> Any:
    """One command-line value (`--set k=VALUE`), read with the same loader as config files."""
    return load_yaml(raw, path="<command line>") if raw.strip() else raw


def apply_set(data: dict, items: Iterable[str], *, flag: str = "--set") -> dict:
    """Apply `KEY=VALUE` overrides (dots reach nested keys) to `data` in place; returns it."""
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{flag} {item!r}: expected KEY=VALUE")
        node = data
        *parents, leaf = key.strip().split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"{flag} {item!r}: {part!r} is a value, not a section")
            node = child
        node[leaf] = parse_value(raw)
    return data


def check_known(keys: Iterable[str], known: Iterable[str], where: str, *, path: str | None = None) -> None:
    """Refuse keys that are not in `known`, naming the nearest known one."""
    known = list(known)
    for key in keys:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1, cutoff=0.5)
            raise InputError(f"unknown {where} key {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                             + f"; known: {', '.join(sorted(known))}", path=path)


def check_value(name: str, kind: Any, value: Any, where: str = "config", *, path: str | None = None) -> Any:
    """`value` checked against the type `kind` (pydantic strict mode; ints are fine for floats).

    Returns the value in that type (1 → 1.0 for a float field). Raises InputError naming the field.
    """
    if kind is Any or value is None and _allows_none(kind):
        return value
    from pydantic import TypeAdapter, ValidationError  # pydantic ships with vLLM and streamlit's deps
    try:
        return TypeAdapter(kind).validate_python(value, strict=True)
    except ValidationError as e:
        problem = e.errors()[0]
        at = ".".join(str(p) for p in problem.get("loc", ()))
        raise InputError(f"{where}: expected {_type_name(kind)}, got {value!r} ({problem['msg']}"
                         + (f" at {at}" if at else "") + ")", path=path, field=name) from None
    except Exception:  # a type pydantic cannot check (a class of our own): left to the constructor
        return value


def _allows_none(kind: Any) -> bool:
    return kind is type(None) or type(None) in typing.get_args(kind)


def _type_name(kind: Any) -> str:
    return getattr(kind, "__name__", None) if typing.get_origin(kind) is None else str(kind).replace("typing.", "")


def check_fields(cls: type, values: dict, where: str = "config", *, path: str | None = None) -> dict:
    """Check every key of `values` is a field of dataclass `cls` and every value has the field's type.

    Fields whose type is itself a dataclass are left to the caller (they are checked section by section).
    Returns the values converted to the field types.
    """
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    check_known(values, names, where, path=path)
    out = {}
    for key, value in values.items():
        kind = hints.get(key, Any)
        out[key] = value if dataclasses.is_dataclass(kind) else check_value(key, kind, value, where, path=path)
    return out


def check_call_options(target: Any, options: dict, where: str, *, extra: dict[str, Any] | None = None,
                       path: str | None = None) -> dict:
    """Check `options` against the named parameters of `target`'s constructor (and its bases'), plus `extra`.

    For parts configured by keyword (filters, scorers, eval tasks): unknown names are errors with the nearest
    known name; annotated values are type-checked. Returns the converted options.
    """
    known = dict(option_types(target))
    known.update(extra or {})
    check_known(options, known, where, path=path)
    return {k: check_value(k, known[k], v, where, path=path) for k, v in options.items()}


def option_types(target: Any) -> dict[str, Any]:
    """name → annotated type of the keyword parameters of `target` (a class: its and its bases' __init__),
    plus a class's declared `OPTIONS` mapping (for parts that read `**options` themselves)."""
    found: dict[str, Any] = {}
    chain = target.__mro__ if inspect.isclass(target) else (target,)
    for owner in reversed(chain):
        found.update(getattr(owner, "__dict__", {}).get("OPTIONS", {}) or {})
        fn = owner.__dict__.get("__init__") if inspect.isclass(owner) else owner
        if fn is None or fn is object.__init__:
            continue
        try:
            hints = typing.get_type_hints(fn)
        except Exception:  # an annotation that cannot be resolved: names still count
            hints = {}
        for p in inspect.signature(fn).parameters.values():
            if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                found[p.name] = hints.get(p.name, Any)
    return found


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
        raise argparse.ArgumentTypeError(f"not valid JSON ({e.msg} at column {e.colno}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"key\": 1}}', got {text!r}")
    return value


def load_config(cls: type[C], path: str | None = None, overrides: dict[str, Any] | None = None) -> C:
    """Build `cls` from an optional YAML file, then non-None overrides; unknown keys and wrongly typed
    values are InputErrors (naming the file, the field and the nearest known key) before any work."""
    values: dict[str, Any] = {}
    if path:
        values = read_yaml_file(path) or {}
        if not isinstance(values, dict):
            raise InputError("config must be a mapping of field: value", path=str(path))
    values = check_fields(cls, values, "config", path=path)
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    values.update(check_fields(cls, given, "command-line"))
    return cls(**values)


def args_to_overrides(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The dataclass fields given on the command line."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}
