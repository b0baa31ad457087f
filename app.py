"""finstream's Streamlit entry point: `streamlit run app.py` (or `make run`).

It routes with st.navigation (finstream/ui/router.py) to the pages in pages/. The analysis page
(pages/analysis.py) is the default: chat on the left, each answer's charts, tables and metrics
beside it. A URL with ``?share=<token>`` opens only the read-only dashboard.
"""

from finstream.ui.router import run_app

run_app()
