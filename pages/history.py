"""History: past conversations: open, rename, delete, and share or revoke read-only links."""

from finstream.ui.history import render
from finstream.ui.router import ensure_router

ensure_router()  # a deep link right after a restart: see its docstring
render()
