"""Registries filled from a lazy "module:Class" name table: did-you-mean errors, ImportError as itself,
and `import alignsmith.curate.verifiers` staying light."""
import subprocess
import sys

import pytest

from alignsmith.curate.backends.base import BACKENDS, BUILTIN_BACKENDS, check_backend_name
from alignsmith.curate.core.registry import Registry, UnknownNameError, load_object
from alignsmith.curate.steps.base import BUILTIN_FILTERS, FILTERS
from alignsmith.curate.steps.scoring import BUILTIN_SCORERS, SCORERS


def test_every_name_in_the_tables_loads_the_class_registered_under_it():
    """A stale table entry (renamed class, moved module) fails here, not in a user's YAML."""
    for registry, table in ((FILTERS, BUILTIN_FILTERS), (SCORERS, BUILTIN_SCORERS)):
        for name, spec in table.items():
            cls = registry.get(name)
            assert cls is load_object(spec)
            assert cls.name == name


def test_backends_come_from_their_name_table():
    """The backend table points at the classes; an unknown name is refused with the nearest one."""
    for name, spec in BUILTIN_BACKENDS.items():
        assert BACKENDS.get(name) is load_object(spec)
    with pytest.raises(ValueError, match=r"unknown backend 'vlm' \(did you mean 'vllm'\?\); known: ") as e:
        check_backend_name("vlm")
    # other tests may have registered their own backends; the built-in ones are always listed
    assert {"hf", "openai", "vllm"} <= set(str(e.value).split("known: ")[1].split(", "))


def test_unknown_name_suggests_a_built_in_one_not_yet_imported():
    fresh = Registry("filter", {"dedup": "alignsmith.curate.steps.dedup_filter:Dedup"})
    with pytest.raises(UnknownNameError, match=r"unknown filter 'dedupe'\. Did you mean 'dedup'\?"):
        fresh.get("dedupe")
    assert "dedup" in fresh and fresh.names() == ["dedup"]


def test_an_import_error_inside_a_part_surfaces_as_itself(tmp_path, monkeypatch):
    """A part whose module cannot import its dependency must say so, never 'unknown filter'."""
    (tmp_path / "broken_part_module.py").write_text("import a_library_that_is_not_installed_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry("filter", {"broken": "broken_part_module:Broken"})
    with pytest.raises(ModuleNotFoundError, match="a_library_that_is_not_installed_xyz"):
        registry.get("broken")


def test_a_stale_table_entry_names_the_entry():
    registry = Registry("filter", {"gone": "alignsmith.curate.steps.base:NoSuchFilter"})
    with pytest.raises(AttributeError, match="NoSuchFilter"):
        registry.get("gone")


def test_importing_the_verifiers_is_light():
    """Eval and the GRPO reward import the verifiers: no filters, dedup, MinHash, numpy or datasketch."""
    code = ("import sys, alignsmith.curate.verifiers as v; "
            "assert v.verify(['punctuation:no_comma'], [{}], 'no commas here') == [True]; "
            "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split())
    heavy = {"numpy", "datasketch", "alignsmith.curate.dedup", "alignsmith.curate.dedup.minhash",
             "alignsmith.curate.steps.base", "alignsmith.curate.steps.constraints", "torch"}
    assert "alignsmith.curate.verifiers.keywords" in loaded  # the families did load
    assert loaded & heavy == set()
