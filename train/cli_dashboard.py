"""`alignsmith dashboard`: start the Streamlit app on 127.0.0.1 (it reads run folders; no model code)."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("dashboard", help="open the Streamlit dashboard over the run folders")
    p.add_argument("--runs", default=None, help="runs folder (default: $ALIGNSMITH_RUNS or ./runs)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--headless", action="store_true", help="do not try to open a browser")
    p.set_defaults(func=run)


def dashboard_command(runs: str | None, host: str, port: int, headless: bool = True) -> list[str]:
    """The `streamlit run` command line for the dashboard app."""
    import importlib.util
    import sys
    from pathlib import Path
    # Located, not imported: the app is a script Streamlit executes.
    spec = importlib.util.find_spec("alignsmith.dashboards")
    app = Path(list(spec.submodule_search_locations)[0]) / "app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", host,
           "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.headless", "true" if headless else "false"]
    if runs:
        cmd += ["--", "--runs", str(Path(runs).resolve())]
    return cmd


def run(args) -> int:
    import subprocess
    cmd = dashboard_command(args.runs, args.host, args.port, args.headless)
    print(f"dashboard: http://{args.host}:{args.port}  (Ctrl-C to stop)")
    return subprocess.call(cmd)
