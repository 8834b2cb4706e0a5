"""Issue 13 items 3 and 14: `alignsmith dashboard` serves from a script (stdin not a terminal), and the
sidebar's runs folder box is fixed to the folder given at start unless --allow-browse."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from alignsmith.train.cli.dashboard import dashboard_command

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dashboard_command_serves_with_stdin_from_dev_null(tmp_path):
    port = _free_port()
    home = tmp_path / "home"  # a fresh HOME: no ~/.streamlit credentials, as on a new machine
    home.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    cli = Path(sys.executable).with_name("alignsmith")
    log = tmp_path / "dashboard.log"
    with open(log, "w") as sink:  # a file, not a pipe: nothing can block on a full pipe
        proc = subprocess.Popen([str(cli), "dashboard", "--runs", str(tmp_path / "runs"), "--port", str(port)],
                                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        answer, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    answer = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, f"dashboard exited with {proc.returncode}: {log.read_text()}"
        assert answer == "ok"
        proc.terminate()  # SIGTERM to the CLI is passed on to the Streamlit server it started
        assert proc.wait(timeout=30) is not None
        time.sleep(1)
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of this test's process group
        except ProcessLookupError:
            pass
    assert "Email" not in log.read_text()


def test_command_is_headless_without_usage_stats_and_passes_allow_browse(tmp_path):
    cmd = dashboard_command(str(tmp_path), "127.0.0.1", 8600)
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert "--allow-browse" not in cmd
    assert dashboard_command(str(tmp_path), "h", 1, allow_browse=True)[-3:] == \
        ["--runs", str(tmp_path.resolve()), "--allow-browse"]


def test_runs_folder_box_is_fixed_unless_allow_browse(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    (tmp_path / "runs").mkdir()
    monkeypatch.setattr(sys, "argv", ["app.py", "--runs", str(tmp_path / "runs")])
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert at.text_input(key="runs_root").disabled
    monkeypatch.setattr(sys, "argv", ["app.py", "--runs", str(tmp_path / "runs"), "--allow-browse"])
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.text_input(key="runs_root").disabled
