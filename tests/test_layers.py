"""The floors of the house, checked by reading the source (an `ast` walk, nothing imported).

- no import cycles among our modules at module level; cycles through imports inside functions ("lazy")
  are reported and, today, also refused;
- the four packages' one-way floors: curate imports nothing of ours, evaluate only curate, train curate and
  evaluate, dashboards only evaluate and never torch / vLLM / transformers (not even lazily);
- a contract module (one that creates a `Registry`, or a `base.py`) never imports its implementations
  (the modules that import it): they are named in a lazy "module:Class" table instead;
- steps never name an executor: a module defining a Filter or Scorer, and the modules of ours it imports,
  never import an executor module (the executor hands a step what it needs); nothing under curate/steps/
  imports the pipeline or an executor at all;
- inside curate, the stage folders are floors too (CURATE_FLOORS, lowest first): a module imports only from
  its own folder or a lower one, so core imports nothing else of curate; no module lies loose at curate/'s top
  (only the package facade, `curate/__init__.py`, which names its functions lazily);
- the command line is its own top floor: command modules live only in train/cli/, and only train/cli/
  imports them.

`check_layers(root)` is the walk; the second test runs it on tests/fixtures/layers_broken/, a tiny fake
package set with a cycle, floor violations (between packages and between curate's stage folders), a base importing its
implementation, a step naming an executor, a loose curate module and misplaced command modules, so the
test can fail.
The module names follow the reference counter ../shared/tools/import_cycles.py (a package import is not
counted as importing its parents' __init__).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("curate", "evaluate", "train", "dashboards")
# package -> packages of ours it may import (besides itself)
FLOORS = {"curate": set(), "evaluate": {"curate"}, "train": {"curate", "evaluate"}, "dashboards": {"evaluate"}}
# third-party modules a package must never import, at module level or lazily
FORBIDDEN = {"dashboards": {"torch", "vllm", "transformers"}}
NAMESPACE = "alignsmith."
EXECUTORS = {"curate.pipeline.ray_executor", "curate.generate.ray", "curate.pipeline.ray_cluster"}
# curate's stage folders, lowest floor first: a module may import its own folder or one listed before it.
# The order is the pipeline's: prompts are generated, steps filter and score them, pairs are built from
# the scores; judges score with a model through a backend (and are Scorers), safety's filter and scorer use
# judges, importers write pairs runs, and the pipeline runs everything.
CURATE_FLOORS = ("core", "backends", "verifiers", "dedup", "generate", "steps", "pairs", "judges", "safety",
                 "importers", "pipeline")
CLI_PACKAGE = "train.cli"
STEP_BASES = {"Filter", "Scorer"}


@dataclass
class Edge:
    """One import statement resolved to a module of ours (or a third-party top-level name)."""

    source: str
    target: str
    lazy: bool  # inside a function body: runs only when called
    line: int
    ours: bool


@dataclass
class LayerReport:
    """What the walk found; `problems` is every rule broken (empty when the floors hold)."""

    cycles: list[list[str]] = field(default_factory=list)
    lazy_cycles: list[list[str]] = field(default_factory=list)
    floor_violations: list[str] = field(default_factory=list)
    base_violations: list[str] = field(default_factory=list)
    executor_violations: list[str] = field(default_factory=list)
    stage_violations: list[str] = field(default_factory=list)
    cli_violations: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every broken rule as one line each (lazy cycles included)."""
        return ([f"module-level cycle: {' -> '.join(c)}" for c in self.cycles]
                + [f"lazy cycle: {' -> '.join(c)}" for c in self.lazy_cycles]
                + self.floor_violations + self.base_violations + self.executor_violations
                + self.stage_violations + self.cli_violations)


def find_modules(root: Path) -> dict[str, Path]:
    """Module name (e.g. `curate.dedup.filter`) -> file, for every .py under the four package folders."""
    mods = {}
    for pkg in PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            parts = [p for p in f.relative_to(root).with_suffix("").parts if p != "__init__"]
            mods[".".join(parts)] = f
    return mods


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, lazy: bool = False):
    """(node, lazy) for each import that runs (skipping `if TYPE_CHECKING:` blocks)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):  # type-only imports never run
            yield from _imports(ast.Module(body=node.orelse, type_ignores=[]), lazy)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, lazy
        inner = lazy or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield from _imports(node, inner)


def _targets(mod: str, node: ast.Import | ast.ImportFrom, is_pkg: bool, mods: dict[str, Path]) -> list[str]:
    """Absolute dotted names an import statement loads (ours without the `alignsmith.` prefix)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = (mod if is_pkg else mod.rsplit(".", 1)[0]).split(".")
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        target = target.removeprefix(NAMESPACE)
        # `from pkg import sub` loads the submodule when there is one
        names = [f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target for a in node.names]
    return [n.removeprefix(NAMESPACE) for n in names]


def find_edges(root: Path, mods: dict[str, Path]) -> list[Edge]:
    """Every runtime import of every module, resolved to our nearest module or a third-party top name."""
    edges = []
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, lazy in _imports(tree):
            for target in _targets(mod, node, path.name == "__init__.py", mods):
                ours = target.split(".")[0] in PACKAGES
                while ours and target not in mods and "." in target:
                    target = target.rsplit(".", 1)[0]
                if ours and target == mod:
                    continue
                edge = Edge(mod, target if ours else target.split(".")[0], lazy, node.lineno, ours)
                if edge not in edges:  # `from x import a, b` is one edge, not two
                    edges.append(edge)
    return edges


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Components of more than one module (Tarjan's algorithm, iterative so deep trees do not recurse)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def _is_contract(path: Path) -> bool:
    """A base module: named base.py, or creating a `Registry(...)` at module level."""
    if path.name == "base.py":
        return True
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        value = getattr(node, "value", None)
        if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "Registry":
            return True
    return False


def _defines_step(path: Path) -> bool:
    """True when the module defines a subclass of Filter or Scorer (a pipeline step)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and any(getattr(b, "id", getattr(b, "attr", None)) in STEP_BASES
                                                  for b in node.bases):
            return True
    return False


def executor_violations(root: Path, mods: dict[str, Path], ours: list[Edge]) -> list[str]:
    """Steps (and the modules of ours they import) importing an executor module, at module level or lazily."""
    steps = {m for m, path in mods.items() if _defines_step(path) and m not in EXECUTORS}
    helpers = {e.target for e in ours if e.source in steps and e.target not in EXECUTORS}
    return sorted({f"executor: {mods[e.source].relative_to(root)}:{e.line} step {e.source} imports {e.target}"
                   for e in ours if e.source in steps | helpers and e.target in EXECUTORS})


def _stage(mod: str) -> str | None:
    """The curate stage folder a module lives in (`curate.steps.base` -> `steps`); None for the facade."""
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else None


def stage_violations(root: Path, mods: dict[str, Path], ours: list[Edge]) -> list[str]:
    """curate's inner floors: loose modules, imports of a higher stage folder, steps importing an executor."""
    found = []
    for mod, path in mods.items():
        if mod.startswith("curate.") and _stage(mod) not in CURATE_FLOORS:
            found.append(f"stage: {path.relative_to(root)} is outside curate's stage folders {CURATE_FLOORS}")
    for e in ours:
        if not (e.source.startswith("curate.") and e.target.startswith("curate.")):
            continue
        where = f"{mods[e.source].relative_to(root)}:{e.line}"
        kind = "lazily " if e.lazy else ""
        src, dst = _stage(e.source), _stage(e.target)
        if src in CURATE_FLOORS and dst in CURATE_FLOORS and CURATE_FLOORS.index(dst) > CURATE_FLOORS.index(src):
            found.append(f"stage: {where} {e.source} ({src}) {kind}imports {e.target} ({dst}, a higher floor)")
        if src == "steps" and e.target in EXECUTORS:
            found.append(f"stage: {where} step module {e.source} {kind}imports executor {e.target}")
    return sorted(found)


def cli_violations(root: Path, mods: dict[str, Path], ours: list[Edge]) -> list[str]:
    """Command modules live only in train/cli/, and nothing outside train/cli/ imports them."""
    found = [f"cli: {path.relative_to(root)} is a command module outside train/cli/"
             for mod, path in mods.items()
             if mod.rsplit(".", 1)[-1].startswith("cli_") and not mod.startswith(CLI_PACKAGE + ".")]
    in_cli = lambda m: m == CLI_PACKAGE or m.startswith(CLI_PACKAGE + ".")  # noqa: E731
    found += [f"cli: {mods[e.source].relative_to(root)}:{e.line} {e.source} imports the command line {e.target}"
              for e in ours if in_cli(e.target) and not in_cli(e.source)]
    return sorted(found)


def check_layers(root: Path) -> LayerReport:
    """Walk the four packages under `root` and report cycles, floor violations and bases importing implementations."""
    mods = find_modules(root)
    edges = find_edges(root, mods)
    report = LayerReport()
    ours = [e for e in edges if e.ours]
    strict = {m: {e.target for e in ours if e.source == m and not e.lazy} for m in mods}
    every = {m: {e.target for e in ours if e.source == m} for m in mods}
    report.cycles = strongly_connected(strict)
    report.lazy_cycles = [c for c in strongly_connected(every) if c not in report.cycles]
    for e in edges:
        pkg = e.source.split(".")[0]
        where = f"{mods[e.source].relative_to(root)}:{e.line}"
        kind = "lazily " if e.lazy else ""
        if e.ours and e.target.split(".")[0] not in FLOORS[pkg] | {pkg}:
            report.floor_violations.append(f"floor: {where} {e.source} {kind}imports {e.target}")
        if not e.ours and e.target in FORBIDDEN.get(pkg, ()):
            report.floor_violations.append(f"floor: {where} {e.source} {kind}imports {e.target}")
    importers = {m: {e.source for e in ours if e.target == m} for m in mods}
    for mod, path in mods.items():
        if not _is_contract(path):
            continue
        for e in ours:
            if e.source == mod and e.target in importers[mod]:
                report.base_violations.append(
                    f"base: {path.relative_to(root)}:{e.line} {mod} imports its implementation {e.target}")
    report.executor_violations = executor_violations(root, mods, ours)
    report.stage_violations = stage_violations(root, mods, ours)
    report.cli_violations = cli_violations(root, mods, ours)
    return report


def test_the_tree_keeps_its_floors():
    """The real tree: no cycles (module-level or lazy), the floors hold, no base imports its implementations."""
    report = check_layers(REPO)
    assert len(find_modules(REPO)) > 100  # the walk really saw the tree
    assert report.problems == []


def test_a_broken_tree_is_caught():
    """The fixture tree has one of each mistake; the walk must name every one."""
    report = check_layers(REPO / "tests" / "fixtures" / "layers_broken")
    assert report.cycles == [["curate.core.a", "curate.core.b"]]
    assert report.lazy_cycles == [["curate.steps.base", "curate.steps.empty"]]
    assert any("dashboards.app imports curate.core.a" in v for v in report.floor_violations)
    assert any("dashboards.app lazily imports torch" in v for v in report.floor_violations)
    assert any("curate.core.a imports evaluate.tasks" in v for v in report.floor_violations)
    assert len(report.floor_violations) == 3
    assert report.base_violations == [
        "base: curate/steps/base.py:10 curate.steps.base imports its implementation curate.steps.empty"]
    assert report.executor_violations == [
        "executor: curate/steps/empty.py:10 step curate.steps.empty imports curate.pipeline.ray_executor"]
    assert report.stage_violations == [
        "stage: curate/core/b.py:7 curate.core.b (core) lazily imports curate.pairs.build (pairs, a higher floor)",
        "stage: curate/loose.py is outside curate's stage folders " + str(CURATE_FLOORS),
        "stage: curate/steps/empty.py:10 curate.steps.empty (steps) lazily imports curate.pipeline.ray_executor "
        "(pipeline, a higher floor)",
        "stage: curate/steps/empty.py:10 step module curate.steps.empty lazily imports executor "
        "curate.pipeline.ray_executor"]
    assert report.cli_violations == [
        "cli: evaluate/cli_scores.py is a command module outside train/cli/",
        "cli: train/runner.py:6 train.runner imports the command line train.cli.main"]
