"""The alignsmith dashboard (Streamlit): `alignsmith dashboard [--runs DIR]` runs this script.

The entry script only sets up the page, the runs folder and the navigation; each page lives in its
own `page_*.py` file so Streamlit (and `AppTest.switch_page`) can address it.
"""
import sys
from pathlib import Path

import streamlit as st

from alignsmith.dashboards.store import runs_root_from_argv

HERE = Path(__file__).resolve().parent
PAGES = [
    ("page_runs.py", "Runs", "runs"),
    ("page_leaderboard.py", "Leaderboard", "leaderboard"),
    ("page_compare.py", "Compare", "compare"),
    ("page_safety.py", "Safety", "safety"),
    ("page_datasets.py", "Datasets", "datasets"),
    ("page_training.py", "Training", "training"),
    ("page_judges.py", "Judges", "judges"),
    ("page_review.py", "Review", "review"),
]

st.set_page_config(page_title="alignsmith", layout="wide")
if "runs_root" not in st.session_state:
    st.session_state["runs_root"] = str(runs_root_from_argv())
# A visitor may point the box at another directory only when the dashboard was started with --allow-browse;
# otherwise it shows the folder given at start and cannot be edited (no browsing of the host's files).
ALLOW_BROWSE = "--allow-browse" in sys.argv[1:]
st.sidebar.text_input("runs folder", key="runs_root", disabled=not ALLOW_BROWSE,
                      help="the folder holding <kind>/<run>/ folders" + (
                          "" if ALLOW_BROWSE else "; fixed at start (alignsmith dashboard --runs DIR "
                                                  "--allow-browse lets it be changed here)"))
if st.sidebar.button("reload files", help="clear the file cache (files are re-read when they change anyway)"):
    st.cache_data.clear()
navigation = st.navigation([st.Page(HERE / file, title=title, url_path=url, default=i == 0)
                            for i, (file, title, url) in enumerate(PAGES)])
navigation.run()
