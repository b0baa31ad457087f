"""Dashboard: a read-only grid of a conversation's charts, tables and metrics (share links)."""

from finstream.ui.chrome import ensure_router
from finstream.ui.dashboard import render

ensure_router()  # a deep link right after a restart: see its docstring
render()
