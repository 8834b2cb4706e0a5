"""Reviewing in the running dashboard with headless Debian Chromium: clicks and a keyboard shortcut write
the reviews file, `alignsmith pairs apply-review` applies it, and the XSS answer in the fixture stays inert.
Reuses test_dashboard_browser's server fixture on a private copy of the fixture runs folder.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, dashboard_url  # noqa: F401 (a fixture)

from alignsmith.curate.core.datafiles import read_parquet
from alignsmith.evaluate.reviews import item_id, read_reviews, reviews_path
from alignsmith.train.cli import main

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # ~40 s: server start and several script reruns


@pytest.fixture
def dashboard_runs(dashboard_runs, tmp_path):  # overrides the session fixture: reviews go beside a copy
    root = tmp_path / "runs"
    for kind in ("pairs", "curate"):
        shutil.copytree(dashboard_runs / kind, root / kind)
    return root


def wait_for_records(path: Path, n: int, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(records := read_reviews(path)) >= n:
            return records
        time.sleep(0.3)
    raise AssertionError(f"{path} did not reach {n} records; has "
                         f"{len(read_reviews(path)) if path.exists() else 0}")


def settle(page) -> None:
    """Wait until the script rerun is over (the status widget disappears)."""
    page.wait_for_timeout(1000)  # the status widget shows only after a short delay into a rerun
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make browser)")
def test_review_by_clicking_then_apply(dashboard_url, dashboard_runs, tmp_path):  # noqa: F811
    playwright = pytest.importorskip("playwright.sync_api")
    run = next((dashboard_runs / "pairs").iterdir())
    rows = read_parquet(run / "dpo.parquet")
    ids = [item_id(r) for r in rows]
    path = reviews_path(run)
    shots = Path(os.environ.get("ALIGNSMITH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(f"{dashboard_url}/review")
            page.get_by_text("items reviewed", exact=False).first.wait_for(timeout=60_000)
            settle(page)
            name = page.get_by_label("your name (recorded with each review)")
            name.fill("ann")
            name.press("Enter")
            page.get_by_text("Enter your name above").wait_for(state="detached", timeout=60_000)
            settle(page)
            page.locator(".st-key-rv-accept button").click()  # Streamlit tags a keyed widget st-key-<key>
            wait_for_records(path, 1)
            settle(page)
            reason = page.get_by_placeholder("reason to reject")
            reason.fill("the chosen answer is truncated")
            reason.press("Enter")
            settle(page)
            page.locator(".st-key-rv-reject button").click()
            wait_for_records(path, 2)
            settle(page)
            page.locator("h1").click()  # focus out of the text box, then the swap shortcut
            page.keyboard.press("s")
            wait_for_records(path, 3)
            settle(page)
            page.get_by_text("blind label", exact=True).click()
            settle(page)
            page.locator(".st-key-rv-label-A button").click()
            records = wait_for_records(path, 4)
            settle(page)
            page.screenshot(path=str(shots / "review.png"))
            body = page.inner_text("body")
            assert "Traceback" not in body and "4 review records" in body
            assert page.evaluate("() => window.__pwned") is None
            assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
        finally:
            browser.close()
    assert [(r["item_id"], r["decision"]) for r in records] == [(ids[0], "accept"), (ids[1], "reject"),
                                                                 (ids[2], "swap"), (ids[3], "label")]
    assert records[1]["reason"] == "the chosen answer is truncated" and records[3]["shown_label"] == "A"
    out = tmp_path / "applied"
    assert main(["pairs", "apply-review", str(run), "--out", str(out)]) == 0
    applied = {r["pair_id"]: r for r in read_parquet(out / "dpo.parquet")}
    assert ids[1] not in applied and len(applied) == len(rows) - 1
    assert applied[ids[2]]["chosen"] == rows[2]["rejected"]
    assert applied[ids[3]]["human_labels"] == [{"reviewer": "ann", "label": records[3]["label"]}]
