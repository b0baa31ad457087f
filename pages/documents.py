"""Documents: the conversation's filings with their metadata, sections, tables, facts and errors."""

from finstream.ui.documents import render
from finstream.ui.router import ensure_router

ensure_router()  # a deep link right after a restart: see its docstring
render()
