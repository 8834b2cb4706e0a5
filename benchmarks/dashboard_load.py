"""Dashboard load time on large eval runs: first (cold) and second (cached) render of the eval pages.

Builds two eval runs of N items each by repeating a small real run's items (from the dashboard test
fixture layout: pass a runs folder holding `eval/*gpt4-reference` and `eval/*dpo-step-200`).
Usage: .venv/bin/python benchmarks/dashboard_load.py RUNS_DIR [N]
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def scaled_copy(src: Path, dst: Path, n: int) -> None:
    shutil.copytree(src, dst)
    items = pd.read_parquet(src / "items.parquet")
    reps = -(-n // len(items))
    big = pd.concat([items.assign(item_id=items["item_id"] + f"-{k}") for k in range(reps)]).head(n)
    big.to_parquet(dst / "items.parquet")


def main() -> None:
    runs, n = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    root = Path(tempfile.mkdtemp()) / "runs"
    for suffix in ("Z-gpt4-reference", "Z-dpo-step-200"):
        src = next(p for p in (runs / "eval").iterdir() if p.name.endswith(suffix) and "safety" not in p.name)
        scaled_copy(src, root / "eval" / src.name, n)
    os.environ["ALIGNSMITH_RUNS"] = str(root)
    from streamlit.testing.v1 import AppTest
    app = str(Path(__file__).resolve().parents[1] / "dashboards" / "app.py")
    at = AppTest.from_file(app, default_timeout=600).run()
    for page in ("page_runs.py", "page_leaderboard.py", "page_compare.py", "page_safety.py"):
        for label in ("cold", "cached"):
            start = time.perf_counter()
            at.switch_page(page).run()
            assert not at.exception, [e.value for e in at.exception]
            print(f"{page}, 2 eval runs x {n} items, {label}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
