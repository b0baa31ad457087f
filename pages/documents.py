"""Documents: the conversation's filings with their metadata, sections, tables, facts and errors."""

from finstream.ui.documents import render

render()
