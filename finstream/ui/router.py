"""The app's pages and navigation (used by app.py, and by the pages themselves on a deep link)."""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st

from finstream.ui.access import require_access


def navigation() -> Any:
    """Configure the page and register the navigation; returns the page to run.

    A URL with ``?share=<token>`` gets only the read-only dashboard: no chat, no uploads, no other
    pages. Everyone else must pass the access check (finstream/ui/access.py), then gets Analysis (the default), Documents, Dashboard and History.
    """
    st.set_page_config(
        page_title="finstream",
        page_icon=":material/query_stats:",
        layout="wide",
        initial_sidebar_state="collapsed",
    )
    if not st.query_params.get("share"):
        require_access()
    if st.query_params.get("share"):
        return st.navigation(
            [st.Page("pages/dashboard.py", title="Shared dashboard", icon=":material/dashboard:",
                     default=True)],
            position="hidden",
        )
    return st.navigation(
        [
            st.Page("pages/analysis.py", title="Analysis", icon=":material/query_stats:", default=True),
            st.Page("pages/documents.py", title="Documents", icon=":material/description:"),
            st.Page("pages/dashboard.py", title="Dashboard", icon=":material/dashboard:"),
            st.Page("pages/history.py", title="History", icon=":material/history:"),
        ],
        position="top",
    )


_routing = threading.local()  # each script run has its own thread


def run_app() -> None:
    """app.py's body: register the navigation and run the page it selects."""
    page = navigation()
    _routing.active = True
    try:
        page.run()
    finally:
        _routing.active = False


def ensure_router() -> None:
    """Make sure app.py's navigation is in charge, even on a deep link right after a restart.

    Streamlit starts an app that has a ``pages/`` folder beside its entry point in the legacy
    multipage mode, and leaves it as soon as any session calls ``st.navigation`` (documented in
    the st.navigation reference). So if the first visitor after a restart opens ``/history`` (a
    reload, a bookmark), Streamlit runs pages/history.py on its own: no app.py, no wide layout, a
    folder listing for navigation. Each page calls this first: when it was not reached through
    ``run_app``, it calls the app's navigation itself (which ends the legacy mode for every
    session) and runs the requested page through it, in this same run (a rerun would drop the
    values of buttons and the chat input that triggered this run).
    """
    if not getattr(_routing, "active", False):
        run_app()
        st.stop()
