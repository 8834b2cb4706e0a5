"""NLTK's Punkt sentence data for the IFEval checks, installed offline-friendly from PyPI.

IFEval's checker splits sentences with NLTK's English Punkt model. nltk itself ships no data and its
downloader needs GitHub, which many clusters (and this project's CI) cannot reach. The same punkt_tab files
travel inside a PyPI wheel (llama-index-core vendors NLTK's data byte for byte), so `install_punkt()`
fetches that wheel once with pip, extracts only tokenizers/punkt_tab/english, and drops the rest.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "llama-index-core==0.14.25"
_PREFIX = "llama_index/core/_static/nltk_cache/"
_FILES = ("tokenizers/punkt_tab/english/", "tokenizers/punkt_tab/README")


def nltk_data_dir() -> Path:
    """alignsmith's own NLTK data folder: <cache>/nltk_data."""
    from .models import cache_dir
    return cache_dir() / "nltk_data"


def punkt_installed(folder: Path | None = None) -> bool:
    """Whether the English punkt_tab files are in `folder` (default: alignsmith's NLTK data folder)."""
    folder = folder or nltk_data_dir()
    return (folder / "tokenizers" / "punkt_tab" / "english" / "sent_starters.txt").exists()


def install_punkt(folder: Path | None = None) -> Path:
    """Put English punkt_tab under `folder` (once); return the folder to use as an NLTK data path."""
    folder = folder or nltk_data_dir()
    if punkt_installed(folder):
        return folder
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, WHEEL],
                       check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        staging = Path(tmp) / "nltk_data"
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                rel = name[len(_PREFIX):] if name.startswith(_PREFIX) else None
                if rel and rel.startswith(_FILES) and not name.endswith("/"):
                    target = staging / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(name))
        if not (staging / "tokenizers" / "punkt_tab" / "english").exists():
            raise FileNotFoundError(f"{wheel.name} no longer carries punkt_tab; set NLTK_DATA instead")
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / "tokenizers" / "punkt_tab"
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Move into place whole, so a crash leaves no half folder that looks installed.
        tmp_dest = Path(tempfile.mkdtemp(dir=dest.parent))
        shutil.rmtree(tmp_dest)
        shutil.move(str(staging / "tokenizers" / "punkt_tab"), tmp_dest)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp_dest, dest)
    return folder
