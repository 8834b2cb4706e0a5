"""`alignsmith dashboard`: start the Streamlit app on 127.0.0.1 (it reads run folders; no model code)."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("dashboard", help="open the Streamlit dashboard over the run folders",
                       description="Serve the dashboard headless (no browser, no first-run e-mail prompt, no "
                                   "usage statistics), so it also runs from scripts and services; --open "
                                   "opens a browser tab as well.")
    p.add_argument("--runs", default=None, help="runs folder (default: $ALIGNSMITH_RUNS or ./runs)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--open", action="store_true",
                   help="also open the dashboard in a web browser once it is serving")
    p.add_argument("--headless", action="store_true",
                   help="kept for old scripts: headless is the default now (see --open)")
    p.add_argument("--allow-browse", action="store_true",
                   help="let visitors change the runs folder in the sidebar (default: fixed to --runs)")
    p.set_defaults(func=run)


def dashboard_command(runs: str | None, host: str, port: int, headless: bool = True,
                      allow_browse: bool = False) -> list[str]:
    """The `streamlit run` command line for the dashboard app (headless unless asked; no usage stats)."""
    import importlib.util
    import sys
    from pathlib import Path
    # Located, not imported: the app is a script Streamlit executes.
    spec = importlib.util.find_spec("alignsmith.dashboards")
    app = Path(list(spec.submodule_search_locations)[0]) / "app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", host,
           "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.headless", "true" if headless else "false"]
    app_args = (["--runs", str(Path(runs).resolve())] if runs else []) + (["--allow-browse"] if allow_browse else [])
    if app_args:
        cmd += ["--", *app_args]
    return cmd


def dashboard_env() -> dict:
    """The environment for Streamlit: usage statistics off (also passed as a flag, for older versions)."""
    import os
    return {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}


def open_when_ready(url: str, timeout: float = 60.0) -> None:
    """Open `url` in a browser once the server answers its health check (in a background thread).

    Streamlit itself always runs headless: its own non-headless start asks for an e-mail address on first
    use, which waits at a terminal and exits when stdin is not one.
    """
    import threading
    import time
    import urllib.request
    import webbrowser

    def wait_then_open() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        webbrowser.open(url)
                        return
            except OSError:
                time.sleep(0.5)

    threading.Thread(target=wait_then_open, daemon=True).start()


def run(args) -> int:
    """Serve the dashboard until interrupted; with --open a browser tab opens once it answers."""
    import subprocess
    url = f"http://{args.host}:{args.port}"
    cmd = dashboard_command(args.runs, args.host, args.port, headless=True, allow_browse=args.allow_browse)
    print(f"dashboard: {url}  (Ctrl-C to stop)")
    if args.open:
        open_when_ready(url)
    import signal
    server = subprocess.Popen(cmd, env=dashboard_env())
    # A service manager stops us with SIGTERM: pass it on, so no orphaned server keeps the port.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return server.wait()
