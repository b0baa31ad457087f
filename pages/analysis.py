"""Analysis: ask questions about the filings; the answer streams with charts, tables and metrics."""

from finstream.ui.analysis import render

render()
