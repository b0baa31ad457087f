"""Analysis: ask questions about the filings; the answer streams with charts, tables and metrics."""

from finstream.ui.analysis import render
from finstream.ui.router import ensure_router

ensure_router()  # a deep link right after a restart: see its docstring
render()
