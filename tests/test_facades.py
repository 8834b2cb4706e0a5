"""The package facades: `alignsmith.curate` and `alignsmith.evaluate` name the plain functions a Python user
calls, import them only on first use, and stay light to import."""
import subprocess
import sys

import pytest

import alignsmith.curate as curate
import alignsmith.evaluate as evaluate


@pytest.mark.parametrize("package", [curate, evaluate], ids=["curate", "evaluate"])
def test_every_public_name_resolves_to_a_callable(package):
    for name in package.__all__:
        assert callable(getattr(package, name)), name
        assert name in dir(package)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = package.no_such_name


def test_the_facades_import_no_heavy_library():
    code = ("import sys, alignsmith.curate, alignsmith.evaluate; "
            "print(' '.join(m for m in ('torch', 'vllm', 'numpy', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == ""


def test_a_facade_name_is_the_function_itself():
    from alignsmith.curate.generate.run import generate
    from alignsmith.evaluate.runner import run_eval
    assert curate.generate_candidates is generate and evaluate.run_eval is run_eval
