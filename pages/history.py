"""History: past conversations: open, rename, delete, and share or revoke read-only links."""

from finstream.ui.history import render

render()
