"""Dashboard: a read-only grid of a conversation's charts, tables and metrics (share links)."""

from finstream.ui.dashboard import render
from finstream.ui.router import ensure_router

ensure_router()  # a deep link right after a restart: see its docstring
render()
