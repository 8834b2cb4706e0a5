"""Issue 15: every command's config is one dataclass whose every field says, in its help, what it does.

The config classes are found by reading the source (every dataclass named *Config, *Options or *Settings in
the four packages), cross-checked against the commands' list below, and walked into their dataclass sections
(lora, qlora, eval, minhash); a field without help fails. The help must also reach the user: in argparse's
--help for flags, and as YAML comments in --print-config.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib
import typing
from pathlib import Path

import pytest
import yaml

from alignsmith.curate.core.config import commented_yaml, field_help, option
from alignsmith.train.cli import main

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("curate", "evaluate", "train", "dashboards")
SUFFIXES = ("Config", "Options", "Settings")

# The dataclass each command builds from --config / --set / flags (module:Class under alignsmith.).
COMMAND_CONFIGS = {
    "generate": "curate.generate.run:GenerateConfig",
    "pairs": "curate.pairs.build:PairsConfig",
    "curate dedup": "curate.dedup.settings:DedupConfig",
    "eval run": "evaluate.run_config:EvalRunConfig",
    "winrates": "evaluate.lc_settings:LCSettings",
    "train": "train.config:TrainConfig",
    "demo": "train.demo:DemoConfig",
}


def config_classes_in_source(root: Path, packages=PACKAGES) -> set[str]:
    """"module:Class" of every dataclass whose name ends in one of SUFFIXES (read with ast, nothing imported)."""
    found = set()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef) and node.name.endswith(SUFFIXES) and _is_dataclass(node):
                    found.add(f"{module}:{node.name}")
    return found


def _is_dataclass(node: ast.ClassDef) -> bool:
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if (isinstance(target, ast.Name) and target.id == "dataclass") or \
                (isinstance(target, ast.Attribute) and target.attr == "dataclass"):
            return True
    return False


def load_class(spec: str, prefix: str = "alignsmith.") -> type:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(prefix + module), name)


def with_sections(classes) -> list[type]:
    """The classes and every dataclass that is the type of one of their fields (recursively)."""
    out: list[type] = []
    todo = list(classes)
    while todo:
        cls = todo.pop()
        if cls in out:
            continue
        out.append(cls)
        todo += [kind for kind in typing.get_type_hints(cls).values() if dataclasses.is_dataclass(kind)]
    return out


def fields_without_help(classes) -> list[str]:
    """"Class.field" for each field whose help is missing, empty or just its own name."""
    bad = []
    for cls in with_sections(classes):
        for f in dataclasses.fields(cls):
            text = f.metadata.get("help", "").strip()
            if not text or text.lower().strip(" .") in (f.name.lower(), f.name.replace("_", " ").lower()):
                bad.append(f"{cls.__name__}.{f.name}")
    return bad


def test_the_scan_finds_every_command_config():
    found = config_classes_in_source(REPO)
    assert set(COMMAND_CONFIGS.values()) <= found
    # The sections of the command configs are found too (they are dataclasses named *Options / *Config).
    assert {"train.config:LoraOptions", "train.config:QloraOptions", "train.config:EvalOptions",
            "curate.dedup.settings:MinHashConfig"} <= found


def test_every_field_of_every_config_has_help():
    classes = [load_class(spec) for spec in sorted(config_classes_in_source(REPO) | set(COMMAND_CONFIGS.values()))]
    assert fields_without_help(classes) == []


def test_a_config_class_without_help_is_caught(tmp_path):
    pkg = tmp_path / "fakepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "settings.py").write_text(
        "from dataclasses import dataclass, field\n"
        "from alignsmith.curate.core.config import option\n\n"
        "@dataclass\nclass InnerOptions:\n    depth: int = 2\n\n"
        "@dataclass\nclass BrevityConfig:\n"
        "    words: int = option('answers with more words than this are long', 30)\n"
        "    inner: InnerOptions = option('nested section', factory=InnerOptions)\n"
        "    mode: str = field(default='x', metadata={'help': 'Mode'})\n\n"
        "@dataclass\nclass Helper:\n    n: int = 0\n")
    found = config_classes_in_source(tmp_path, packages=("fakepkg",))
    assert found == {"fakepkg.settings:InnerOptions", "fakepkg.settings:BrevityConfig"}
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        cls = load_class("fakepkg.settings:BrevityConfig", prefix="")
        assert sorted(fields_without_help([cls])) == ["BrevityConfig.mode", "InnerOptions.depth"]
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == "fakepkg"]:
            del sys.modules[name]


def test_option_needs_help_and_keeps_defaults():
    with pytest.raises(ValueError, match="help"):
        option("  ", 1)

    @dataclasses.dataclass
    class Demo:
        required: str = option("must be given")
        n: int = option("how many", 3)
        items: list = option("a fresh list each time", factory=list)
        hook: object = option("runtime hook, not printed", None, repr=False)

    a, b = Demo("x"), Demo("y")
    assert a.n == 3 and a.items == [] and a.items is not b.items
    with pytest.raises(TypeError):
        Demo()  # no default: still required
    assert field_help(Demo, "n") == "how many"
    with pytest.raises(KeyError):
        field_help(Demo, "nope")


def test_commented_yaml_round_trips_with_sections():
    from alignsmith.train.config import TrainConfig
    config = TrainConfig(method="dpo", trl={"beta": 0.3, "save_strategy": "no"})
    text = commented_yaml(config)
    assert yaml.safe_load(text) == config.to_dict()
    lines = text.splitlines()
    r_at = lines.index("  r: 8")  # the lora section's field, indented, with its help right above
    assert lines[r_at - 1].startswith("  # ") and "rank" in lines[r_at - 1]
    assert f"# {field_help(TrainConfig, 'merge')}" in text
    # A runtime hook (repr=False) is not a setting and is not printed.
    from alignsmith.curate.dedup.settings import DedupConfig
    dedup_text = commented_yaml(DedupConfig())
    assert "minhash_pairs" not in dedup_text and "  num_perm: 128" in dedup_text


def test_pairs_print_config_shows_each_fields_help(capsys):
    from alignsmith.curate.pairs.build import PairsConfig
    assert main(["pairs", "--print-config", "--set", "max_similarity=0.8"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    at = lines.index("max_similarity: 0.8")
    comment = " ".join(line[2:] for line in lines[at - 2:at] if line.startswith("# "))
    assert "near-identical" in comment
    for f in dataclasses.fields(PairsConfig):
        assert f"\n{f.name}:" in "\n" + text
    assert yaml.safe_load(text) == PairsConfig.from_dict({"max_similarity": 0.8}).to_dict()


def test_train_print_config_shows_each_fields_help(capsys):
    assert main(["train", "dpo", "--lora.r", "4", "--trl.beta", "0.3", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert "# LoRA rank" in text and "\n  r: 4\n" in text
    assert "# arguments of TRL's config class" in text
    loaded = yaml.safe_load(text)
    assert loaded["lora"]["r"] == 4 and loaded["trl"] == {"beta": 0.3} and loaded["method"] == "dpo"


@pytest.mark.parametrize("argv, spec, name", [
    (["generate"], "curate.generate.run:GenerateConfig", "shard_size"),
    (["demo"], "train.demo:DemoConfig", "beta"),
    (["curate", "dedup"], "curate.dedup.settings:DedupConfig", "keep"),
    (["curate", "dedup"], "curate.dedup.settings:MinHashConfig", "num_perm"),
    (["eval", "run"], "evaluate.run_config:EvalRunConfig", "max_model_len"),
    (["winrates"], "evaluate.lc_settings:LCSettings", "reg_lambda"),
])
def test_flag_help_is_the_fields_help(capsys, monkeypatch, argv, spec, name):
    monkeypatch.setenv("COLUMNS", "1000")  # one help entry per line, so the text is found unwrapped
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert " ".join(field_help(load_class(spec), name).split()) in shown
