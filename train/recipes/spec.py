"""Recipe YAML: load, check and expand it into concrete stages before any work starts.

A recipe names its stages in order; each stage `uses` a kind from `stages.STAGE_KINDS` and gives its
`args`. Values may refer to `${scale.NAME}` (the chosen scale's settings), `${stages.NAME}` (an earlier
stage's output path), `${seed}` (in `per_seed` stages, which run once per seed), `${model}`, `${out}` and
`${data}` (the public eval data folder). A value that is exactly one reference keeps its type (an int stays
an int). Every mistake is reported with the recipe file, the stage and the field.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from alignsmith.curate.core.config import load_yaml
from alignsmith.curate.core.errors import InputError

from .stages import STAGE_KINDS

SCALES = ("toy", "cpu", "gpu")
TOP_KEYS = ("name", "description", "model", "seeds", "scales", "stages", "report")
STAGE_KEYS = ("name", "uses", "args", "per_seed")
REPORT_KEYS = ("base", "seeded", "compare")
_REF = re.compile(r"\$\{([a-z_]+)(?:\.([A-Za-z0-9_\-]+))?\}")


@dataclass
class Stage:
    """One concrete stage: its folder name, kind, resolved fields and seed (per-seed stages only)."""

    name: str
    base: str
    uses: str
    args: dict
    seed: int | None = None
    depends: list[str] = field(default_factory=list)  # folder names of the stages whose outputs it reads


@dataclass
class Recipe:
    """A checked, expanded recipe ready to run."""

    name: str
    path: str
    scale: str
    seeds: list[int]
    model: str
    stages: list[Stage]
    report: dict = field(default_factory=dict)


def packaged_recipes() -> list[str]:
    """Names of the recipes shipped in this package."""
    return sorted(p.name[:-5] for p in resources.files(__package__).iterdir() if p.name.endswith(".yaml"))


def recipe_text(name_or_path: str) -> tuple[str, str]:
    """(YAML text, where it came from) for a packaged recipe name or a YAML file path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise InputError("recipe file not found", path=str(path))
        return path.read_text(encoding="utf-8"), str(path)
    known = packaged_recipes()
    if name_or_path not in known:
        hint = difflib.get_close_matches(name_or_path, known, n=1)
        raise InputError(f"unknown recipe {name_or_path!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                         + f" (packaged: {', '.join(known)}; or give a YAML file)")
    res = resources.files(__package__).joinpath(f"{name_or_path}.yaml")
    return res.read_text(encoding="utf-8"), f"{name_or_path} ({res})"


def _unknown_keys(data: dict, known: tuple[str, ...], where: str, path: str) -> None:
    for key in data:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            raise InputError(f"{where}: unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                             + f" (known: {', '.join(known)})", path=path, field=str(key))


def load_recipe(name_or_path: str, *, scale: str = "cpu", seeds: list[int] | None = None, out: str = ".",
                data: str | None = None, model: str | None = None) -> Recipe:
    """Read, check and expand a recipe; raise InputError naming the stage and field on any mistake."""
    text, where = recipe_text(name_or_path)
    raw = load_yaml(text, where)
    if not isinstance(raw, dict):
        raise InputError("a recipe is a mapping with `stages:`", path=where)
    _unknown_keys(raw, TOP_KEYS, "recipe", where)
    scales = raw.get("scales") or {}
    if scale not in SCALES:
        raise InputError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}", field="scale")
    if scale not in scales:
        raise InputError(f"recipe has no {scale!r} scale (has: {', '.join(scales) or 'none'})", path=where,
                         field="scales")
    seed_list = list(seeds if seeds else raw.get("seeds") or [0])
    from alignsmith.curate.core.paths import data_dir
    found = data_dir(data)
    context = {"scale": dict(scales[scale] or {}), "model": model or raw.get("model") or "smollm2-135m-instruct",
               "out": str(Path(out)), "data": str(found) if found else (data or "")}
    stages = _expand_stages(raw.get("stages"), context, seed_list, where)
    report = raw.get("report") or {}
    _unknown_keys(report, REPORT_KEYS, "report", where)
    names = {s.base for s in stages}
    for key, listed in report.items():
        for base in listed:
            if base not in names:
                raise InputError(f"report: {key} names unknown stage {base!r}", path=where, field=key)
    return Recipe(name=str(raw.get("name") or Path(where.split(" ")[0]).stem), path=where, scale=scale,
                  seeds=seed_list, model=context["model"], stages=stages, report=report)


def _expand_stages(raw_stages: Any, context: dict, seeds: list[int], where: str) -> list[Stage]:
    if not isinstance(raw_stages, list) or not raw_stages:
        raise InputError("recipe needs a non-empty `stages:` list", path=where, field="stages")
    out: list[Stage] = []
    outputs: dict[str, dict[int | None, str]] = {}   # base name -> seed (None: shared) -> output path
    for i, spec in enumerate(raw_stages):
        if not isinstance(spec, dict) or not spec.get("name"):
            raise InputError(f"stage #{i + 1} needs a `name`", path=where, field="stages")
        name = str(spec["name"])
        label = f"stage {name!r}"
        _unknown_keys(spec, STAGE_KEYS, label, where)
        if name in outputs:
            raise InputError(f"{label}: the name is used twice", path=where, field="name")
        if name == "runs" or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]*", name):
            raise InputError(f"{label}: use letters, digits, - and _ (and not `runs`, the folder of the "
                             "stages' run folders)", path=where, field="name")
        uses = spec.get("uses")
        if uses not in STAGE_KINDS:
            hint = difflib.get_close_matches(str(uses), list(STAGE_KINDS), n=1)
            raise InputError(f"{label}: unknown stage kind {uses!r}" + (f"; did you mean {hint[0]!r}?" if hint
                             else "") + f" (known: {', '.join(STAGE_KINDS)})", path=where, field="uses")
        kind = STAGE_KINDS[uses]
        args = spec.get("args") or {}
        if not isinstance(args, dict):
            raise InputError(f"{label}: `args` must be a mapping", path=where, field="args")
        for key in kind.required:
            if args.get(key) in (None, "", []):
                raise InputError(f"{label} ({uses}): missing input {key!r}", path=where, field=key)
        _unknown_keys(args, kind.required + kind.optional, f"{label} ({uses})", where)
        per_seed = bool(spec.get("per_seed", False))
        outputs[name] = {}
        for seed in (seeds if per_seed else [None]):
            folder = f"{name}-seed{seed}" if per_seed else name
            deps: list[str] = []
            resolved = _resolve(args, {**context, "seed": seed, "deps": deps}, outputs, label, where)
            if per_seed and uses in ("train_sft", "train_dpo"):
                resolved.setdefault("seed", seed)
            out.append(Stage(name=folder, base=name, uses=uses, args=resolved, seed=seed,
                             depends=sorted(set(deps))))
            outputs[name][seed] = str(Path(context["out"]) / kind.output.format(name=folder))
    # Shared stages first, then each seed's stages together: a stage can only use shared stages or its own
    # seed's, so this order is valid, and when time runs out seed 0 is complete (trained, evaluated and
    # compared) instead of every seed half done.
    return [s for s in out if s.seed is None] + [s for seed in seeds for s in out if s.seed == seed]


def _resolve(value: Any, context: dict, outputs: dict, label: str, where: str, key: str = "") -> Any:
    """Substitute references inside value (recursively), naming the stage and field on a bad one."""
    if isinstance(value, dict):
        return {k: _resolve(v, context, outputs, label, where, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, context, outputs, label, where, key) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value

    def lookup(m: re.Match) -> Any:
        scope, name = m.group(1), m.group(2)
        if scope == "stages":
            if name not in outputs:
                raise InputError(f"{label}: refers to stage {name!r}, which is not an earlier stage "
                                 f"(earlier: {', '.join(outputs) or 'none'})", path=where, field=key)
            by_seed = outputs[name]
            if None not in by_seed and context["seed"] not in by_seed:
                _no_seed(name, label, where, key)
            used_seed = None if None in by_seed else context["seed"]
            context["deps"].append(f"{name}-seed{used_seed}" if used_seed is not None else name)
            return by_seed[used_seed]
        if scope == "scale":
            if name not in context["scale"]:
                raise InputError(f"{label}: ${{scale.{name}}} is not set by this scale (set: "
                                 f"{', '.join(context['scale'])})", path=where, field=key)
            return context["scale"][name]
        if scope == "seed" and name is None:
            if context["seed"] is None:
                raise InputError(f"{label}: ${{seed}} is only defined in per_seed stages", path=where, field=key)
            return context["seed"]
        if scope in ("model", "out", "data") and name is None:
            return context[scope]
        raise InputError(f"{label}: unknown reference {m.group(0)!r}", path=where, field=key)

    whole = _REF.fullmatch(value)
    if whole:
        return lookup(whole)
    return _REF.sub(lambda m: str(lookup(m)), value)


def _no_seed(name: str, label: str, where: str, key: str):
    raise InputError(f"{label}: refers to per-seed stage {name!r} from a stage that is not per_seed",
                     path=where, field=key)
