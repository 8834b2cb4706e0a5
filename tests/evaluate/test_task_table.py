"""Eval tasks come from a lazy "module:Class" name table: every entry loads the class registered under it."""
import pytest

from alignsmith.curate.core.registry import UnknownNameError, load_object
from alignsmith.evaluate.tasks import BUILTIN_TASKS, TASKS, get_task


def test_every_built_in_task_name_loads_its_class():
    assert TASKS.names()[:4] == sorted(BUILTIN_TASKS)[:4]
    for name, spec in BUILTIN_TASKS.items():
        assert TASKS.get(name) is load_object(spec)


def test_unknown_task_suggests_the_nearest_name():
    with pytest.raises(UnknownNameError, match=r"Did you mean 'ifeval'"):
        get_task("ifevall")
