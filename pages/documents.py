"""Documents: the conversation's filings with their metadata, sections, tables, facts and errors."""

from finstream.ui.chrome import ensure_router
from finstream.ui.documents import render

ensure_router()  # a deep link right after a restart: see its docstring
render()
