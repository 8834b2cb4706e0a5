"""The four folders install as alignsmith.* sub-packages, never as top-level names."""
import importlib
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(cfg["tool"]["setuptools"]["packages"])
    mapping = cfg["tool"]["setuptools"]["package-dir"]
    found = set()
    for pkg, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([pkg, *rel.parts]))
    assert found == listed


def test_installed_under_namespace_not_top_level():
    for name in ("curate", "train", "evaluate", "dashboards"):
        mod = importlib.import_module(f"alignsmith.{name}")
        assert Path(mod.__file__).parent == ROOT / name


def test_folders_are_not_importable_top_level(tmp_path):
    import subprocess
    import sys
    code = "import importlib.util as u; print([n for n in ('curate','train','evaluate','dashboards') if u.find_spec(n)])"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
