"""Uploaded filings -> Filing (model.py). Entry point: finstream.filings.ingest.ingest / ingest_async.

Nothing is imported here so that importing the model stays cheap; see docs/FILINGS.md.
"""
