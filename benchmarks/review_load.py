"""Review page and review commands on a 100k-pair run: render, navigate, act, apply, sample.

Builds a pairs run of N pairs by repeating a small real pairs run's rows (the dashboard test fixture's
`pairs/` run, built by build_pairs over IFEval prompts) with distinct candidate ids, plus a reviews file
of R records by two reviewers, then times the Review page under Streamlit's AppTest and the
`pairs apply-review` / `pairs sample-audit` / `reviews agreement` commands.
Usage: .venv/bin/python benchmarks/review_load.py RUNS_DIR [N] [R]
"""
from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def scaled_pairs_run(src: Path, dst: Path, n: int) -> None:
    """A copy of `src` whose dpo.parquet repeats its rows to `n` pairs with distinct candidate ids."""
    shutil.copytree(src, dst)
    rows = pd.read_parquet(src / "dpo.parquet")
    reps = -(-n // len(rows))
    big = pd.concat([rows.assign(chosen_id=rows["chosen_id"] + f"-{k}", rejected_id=rows["rejected_id"] + f"-{k}",
                                 category=f"cat{k % 5}") for k in range(reps)]).head(n)
    big.to_parquet(dst / "dpo.parquet")


def fill_reviews(run: Path, r: int) -> None:
    """R review records by ann and bob (labels, with 40% overlap between them) written with the real writer."""
    from alignsmith.evaluate.reviews import append_review, item_id, make_review, reviews_path
    ids = [item_id(row) for row in pd.read_parquet(run / "dpo.parquet").to_dict("records")]
    rng = random.Random(0)
    base = make_review(run, ids[0], "ann", "accept")
    lines = []
    import json
    for k in range(r):
        who = "ann" if k % 2 == 0 else "bob"
        iid = ids[(k // 2) if rng.random() < 0.4 else k]
        label = rng.choice(["chosen", "chosen", "rejected", "tie"])
        lines.append({**base, "reviewer": who, "item_id": iid, "decision": "label", "label": label,
                      "shown_order": ["chosen", "rejected"], "shown_label": "A" if label == "chosen" else "B"})
    # Bulk fill: one write of R lines (the page's own appends go through append_review below).
    reviews_path(run).write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    append_review(reviews_path(run), base)


def timed(label: str, fn) -> None:
    start = time.perf_counter()
    fn()
    print(f"{label}: {time.perf_counter() - start:.2f} s", flush=True)


def main() -> None:
    runs = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    r = int(sys.argv[3]) if len(sys.argv) > 3 else 20_000
    root = Path(tempfile.mkdtemp()) / "runs"
    src = next((runs / "pairs").iterdir())
    run = root / "pairs" / src.name
    scaled_pairs_run(src, run, n)
    timed(f"fill {r} reviews", lambda: fill_reviews(run, r))
    os.environ["ALIGNSMITH_RUNS"] = str(root)
    from streamlit.testing.v1 import AppTest
    app = str(Path(__file__).resolve().parents[1] / "dashboards" / "app.py")
    at = AppTest.from_file(app, default_timeout=600).run()

    def check():
        assert not at.exception, [e.value for e in at.exception]
    timed(f"Review page, {n} pairs + {r} reviews, cold", lambda: (at.switch_page("page_review.py").run(), check()))
    timed("Review page, rerun (cached)", lambda: (at.run(), check()))
    at.text_input(key="rv-reviewer").set_value("carol").run()
    timed("Next item", lambda: (at.button(key="rv-next").click().run(), check()))
    timed("Jump to item 99,999", lambda: (at.number_input(key="rv-item").set_value(n - 1).run(), check()))
    timed("Accept (append + re-read reviews)", lambda: (at.button(key="rv-accept").click().run(), check()))
    timed("filter: not reviewed by me", lambda: (at.selectbox(key="rv-show").set_value("not reviewed by me").run(),
                                                 check()))
    timed("blind label mode", lambda: (at.radio(key="rv-mode").set_value("blind label").run(), check()))
    from alignsmith.train.cli import main as cli
    timed("pairs apply-review", lambda: cli(["pairs", "apply-review", str(run), "--out", str(root / "applied")]))
    timed("pairs sample-audit --n 500", lambda: cli(["pairs", "sample-audit", str(run), "--n", "500"]))
    timed("reviews agreement", lambda: cli(["reviews", "agreement", "--reviews",
                                            str(run.parent / f"{run.name}.reviews.jsonl")]))


if __name__ == "__main__":
    main()
