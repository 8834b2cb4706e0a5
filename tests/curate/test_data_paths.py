"""The one data-folder resolver (curate/core/paths.py)."""
from pathlib import Path

from alignsmith.curate.core import paths


def test_an_explicit_folder_wins_and_is_returned_even_when_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(tmp_path))
    assert paths.data_dir(tmp_path / "nope") == tmp_path / "nope"   # the caller's error names what was typed


def test_the_environment_comes_next(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNSMITH_DATA", str(tmp_path / "env"))
    assert paths.data_dir() == tmp_path / "env"


def test_then_shared_data_beside_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("ALIGNSMITH_DATA", raising=False)
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert paths.data_dir().resolve() == (tmp_path / "shared" / "data").resolve()


def test_nothing_found_gives_none_and_data_root_the_conventional_default(tmp_path, monkeypatch):
    monkeypatch.delenv("ALIGNSMITH_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(paths, "__file__", str(tmp_path / "a" / "b" / "c" / "paths.py"))  # no checkout sibling
    assert paths.data_dir() is None
    assert paths.data_root() == Path("..") / "shared" / "data"
