"""What the demo analyst knows of the loaded filings: only what its list_filings call returned,
as a model would. It never sees the parsed filings themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Listed:
    """One filing as list_filings describes it (finstream/tools/data.py)."""

    filename: str
    format: str = ""
    company: str | None = None
    cik: str | None = None
    ticker: str | None = None
    form: str | None = None
    sections: tuple[str, ...] = ()  # section titles
    tables: tuple[str, ...] = ()  # "index: title"
    period_types: tuple[str, ...] = ()  # annual, quarterly

    @property
    def quarters_only(self) -> bool:
        """It reports quarters but no fiscal year (an earnings release, a 10-Q)."""
        return "quarterly" in self.period_types and "annual" not in self.period_types

    def shows(self, name: str) -> bool:
        """Whether ``name`` is a word of its section or table titles (a segment, a product, a
        region: "Greater China" in an Apple question is not taken for a company)."""
        if "." in name:  # a file name: only the file itself counts
            return False
        pattern = re.compile(rf"\b{re.escape(name)}\b", re.I)
        return any(pattern.search(title) for title in (*self.sections, *self.tables))


@dataclass(frozen=True)
class Listing:
    filings: list[Listed]
    failed: list[dict[str, str]]  # uploads that could not be read: {"filename", "error"}


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def read_listing(result: Any) -> Listing:
    """A list_filings result (decoded JSON) as the demo analyst reads it; anything it cannot read
    counts as nothing loaded."""
    if not isinstance(result, dict):
        return Listing([], [])
    filings = [
        Listed(
            filename=str(item.get("filename") or ""),
            format=str(item.get("format") or ""),
            company=_text(item.get("company")),
            cik=_text(item.get("cik")),
            ticker=_text(item.get("ticker")),
            form=_text(item.get("form")),
            sections=_texts(item.get("sections")),
            tables=_texts(item.get("tables")),
            period_types=_texts(item.get("period_types")),
        )
        for item in result.get("filings") or []
        if isinstance(item, dict) and item.get("filename")
    ]
    failed = [
        {"filename": str(d.get("filename", "")), "error": str(d.get("error", ""))}
        for d in result.get("failed") or []
        if isinstance(d, dict)
    ]
    return Listing(filings, failed)
