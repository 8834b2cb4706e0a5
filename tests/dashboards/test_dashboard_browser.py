"""The running dashboard in headless Debian Chromium: every page loads, key text shows, injected model
text stays inert. Screenshots go to $ALIGNSMITH_SCREENSHOTS (docs/screenshots/ when regenerating them)
or the test's tmp folder.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from alignsmith.train.cli.dashboard import dashboard_command

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # ~50 s: server start, six pages
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# url path -> text that must be visible once the page has rendered
PAGES = {"": ["Runs", "train-dpo", "Latest demo"], "leaderboard": ["Leaderboard", "Win-rate matrix"],
         "compare": ["Compare", "Per-item differences", "window.__pwned=1"],
         "safety": ["Safety", "Examples behind each number"], "datasets": ["Datasets", "Pair browser"],
         "training": ["Training"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dashboard_url(dashboard_runs):
    """`alignsmith dashboard`'s command on a free 127.0.0.1 port; always terminated afterwards."""
    port = free_port()
    proc = subprocess.Popen(dashboard_command(str(dashboard_runs), "127.0.0.1", port, True),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            pytest.fail("the dashboard did not answer on its health endpoint within 90 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group: streamlit and anything it started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make browser)")
def test_pages_load_in_chromium_and_model_text_stays_inert(dashboard_url, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    shots = Path(os.environ.get("ALIGNSMITH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        # Debian's browser, never a downloaded one.
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            for url, wanted in PAGES.items():
                page.goto(f"{dashboard_url}/{url}")
                page.wait_for_selector("h1", timeout=60_000)
                for text in wanted:  # waits for the script run to reach the element
                    page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
                # The status widget ("Running…/Stop") disappears when the script run is over.
                page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                       timeout=60_000)
                page.wait_for_timeout(2000)  # let charts draw before the screenshot
                page.screenshot(path=str(shots / f"{url or 'runs'}.png"))
                body = page.inner_text("body")
                assert "Traceback" not in body and "Page not found" not in body, url
                assert page.evaluate("() => window.__pwned") is None, url
                assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0, url
                assert page.evaluate("() => [...document.scripts].some(s => s.text.includes('__pwned'))") is False
        finally:
            browser.close()
