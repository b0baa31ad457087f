"""finstream's Streamlit entry point: `streamlit run app.py` (or `make run`).

It routes to the pages in pages/ with st.navigation. The analysis page (pages/analysis.py) is the
default: chat on the left, each answer's charts, tables and metrics beside it. A URL with
``?share=<token>`` opens only the read-only dashboard: no chat, no uploads, no other pages.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(
    page_title="finstream",
    page_icon=":material/query_stats:",
    layout="wide",
    initial_sidebar_state="collapsed",
)

if st.query_params.get("share"):
    page = st.navigation(
        [st.Page("pages/dashboard.py", title="Shared dashboard", icon=":material/dashboard:", default=True)],
        position="hidden",
    )
else:
    page = st.navigation(
        [
            st.Page("pages/analysis.py", title="Analysis", icon=":material/query_stats:", default=True),
            st.Page("pages/documents.py", title="Documents", icon=":material/description:"),
            st.Page("pages/dashboard.py", title="Dashboard", icon=":material/dashboard:"),
            st.Page("pages/history.py", title="History", icon=":material/history:"),
        ],
        position="top",
    )
page.run()
