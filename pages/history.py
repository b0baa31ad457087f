"""History: past conversations: open, rename, delete, and share or revoke read-only links."""

from finstream.ui.chrome import ensure_router
from finstream.ui.history import render

ensure_router()  # a deep link right after a restart: see its docstring
render()
