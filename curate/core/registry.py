"""Name-keyed registries so YAML configs and CLI flags name parts by string.

Built-in parts are named in a lazy "module:Class" table (lm-evaluation-harness style): the contract module
that owns a registry lists its implementations as strings, so it never imports them (no import cycles, no
bottom-of-file imports), and a part's module, with its heavy libraries, loads only when the part is asked for.
"""
from __future__ import annotations

import difflib
import importlib
import sys
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A registry lookup for a name that is not registered; the message suggests close names."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class Registry(Generic[T]):
    """A mapping from names to classes or factories, with "did you mean" errors."""

    def __init__(self, kind: str, builtins: dict[str, str] | None = None):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = dict(builtins or {})  # name -> "module:attr", imported on first get

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated class/function under `name`."""

        def wrap(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return wrap

    def get(self, name: str) -> T:
        """Return the part registered as `name`, or raise with the closest known names."""
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            # An ImportError inside the part's module propagates as itself: a broken or missing
            # dependency must never read as "unknown filter". A note says which named part it was;
            # the CLI prints both as one line (exit 2).
            try:
                obj = load_object(self._lazy[name])
            except (ImportError, AttributeError) as e:
                if hasattr(e, "add_note"):  # Python 3.11+
                    e.add_note(f"while loading {self.kind} {name!r} from {self._lazy[name]!r}")
                raise
            self._items.setdefault(name, obj)  # its module may have registered it already (decorator)
            return self._items[name]
        names = self.names()
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownNameError(f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(names) or '(none)'}")

    def names(self) -> list[str]:
        """All known names (registered, or built in and not yet imported), sorted."""
        return sorted(set(self._items) | set(self._lazy))

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def load_object(spec: str):
    """The object a "package.module:attr" string names (ImportError from the module is not caught)."""
    module, _, attr = spec.partition(":")
    loaded = importlib.import_module(module)
    try:
        return getattr(loaded, attr)
    except AttributeError:
        raise AttributeError(f"{spec!r}: module {module!r} has no {attr!r} (registry name table is stale)") from None


def lazy_exports(package: str, table: dict[str, str]):
    """`(__getattr__, __dir__)` for a package facade (PEP 562): each public name in `table`
    ("module:attr" under `package`) is imported on first use, so importing the package stays light."""

    def __getattr__(name: str):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = load_object(f"{package}.{table[name]}")
        setattr(sys.modules[package], name, value)  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return __getattr__, __dir__
