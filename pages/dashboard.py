"""Dashboard: a read-only grid of a conversation's charts, tables and metrics (share links)."""

from finstream.ui.dashboard import render

render()
