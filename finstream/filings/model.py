"""What a parsed filing is: metadata, text sections, tables and facts, each traceable to its source."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr


class Source(BaseModel):
    """Where a number or passage came from."""

    model_config = ConfigDict(extra="forbid")

    document: str = Field(description="File name of the filing.")
    section: str | None = Field(None, description="Section title (10-K item, note, sheet name).")
    page: int | None = Field(None, description="1-based page number (PDF).")
    table: str | None = Field(None, description="Table title or id.")
    concept: str | None = Field(None, description="XBRL concept or line item.")
    context: str | None = Field(None, description="XBRL context id or accession number.")
    period: str | None = Field(None, description="Human label of the period, e.g. FY2024, Q2 FY2025.")


class Revision(BaseModel):
    """A value one filing reported for a fact before a later filing restated it."""

    value: float
    filed: str | None = Field(None, description="Filing date of the earlier report.")
    context: str | None = Field(None, description="Where it was reported (accession, form).")


class FiscalCalendarInfo(BaseModel):
    """The fiscal calendar a filing's periods were labelled with (shown by inspect)."""

    fiscal_year_end: str = Field(description="Nominal fiscal year end as --MM-DD.")
    weeks_52_53: bool = Field(False, description="Years of 52 or 53 weeks ending near the nominal day.")
    year_offset: int = Field(0, description="Fiscal year number minus the calendar year in which the year ends.")
    year_known: bool = True
    description: str = ""
    source: str = Field("", description="What the calendar was read from (cover, companyfacts 10-Ks, headings).")


class Fact(BaseModel):
    """One reported number."""

    concept: str = Field(description="XBRL concept (e.g. us-gaap:NetIncomeLoss) or line item.")
    label: str = Field(description="Human label.")
    value: float = Field(description="The value in units (already multiplied by its scale).")
    unit: str = Field("USD", description="USD, USD/shares, shares, pure, ...")
    scale: int = Field(0, description="Power of ten the filing displayed it in (6 = millions).")
    period_start: date | None = Field(None, description="Start of a duration; None for an instant.")
    period_end: date = Field(description="End of the duration, or the instant.")
    fiscal_year: int | None = None
    fiscal_period: str | None = Field(None, description="FY, Q1..Q4, H1, 9M ...")
    form: str | None = None
    dimensions: dict[str, str] = Field(
        default_factory=dict, description="Axis -> member (explicit) or value (typed); empty = total."
    )
    source: Source
    decimals: int | Literal["INF"] | None = Field(
        None, description="XBRL precision: digits after the point the value is exact to (-6 = millions); None if not stated."
    )
    derived: bool = Field(False, description="Computed from other facts (e.g. Q4 = FY - 9M), not reported.")
    derived_from: list[Source] = Field(default_factory=list, description="The reported facts a derived value comes from.")
    history: list[Revision] = Field(
        default_factory=list, description="Earlier reported values of the same fact that a later filing replaced."
    )


class Section(BaseModel):
    title: str
    text: str
    page: int | None = None


class Table(BaseModel):
    title: str
    columns: list[str]
    rows: list[list[Any]]
    section: str | None = None
    page: int | None = None
    unit_note: str | None = Field(None, description="e.g. 'in millions, except per-share amounts'.")


class Filing(BaseModel):
    """A parsed document, as stored and as the tools see it."""

    document_id: str = Field("", description="Store id; empty before it is saved.")
    filename: str
    format: str = Field(description="ixbrl, html, xbrl, companyfacts, pdf, csv, xlsx, text")
    company: str | None = None
    cik: str | None = None
    ticker: str | None = None
    form: str | None = None
    fiscal_period: str | None = None
    period_end: date | None = None
    filing_date: date | None = None
    sections: list[Section] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    calendar: FiscalCalendarInfo | None = Field(None, description="The fiscal calendar its periods are labelled with.")
    dei: dict[str, str] = Field(default_factory=dict, description="Cover (dei:) text facts, e.g. DocumentFiscalPeriodFocus.")
    # The search index (finstream.filings.search), built on first use; never serialized.
    _search_index: Any = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        # Equal when the data is; the search cache is not part of a filing's identity.
        if not isinstance(other, Filing):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable, like every pydantic model

    def metadata(self) -> dict[str, Any]:
        """The identifying fields as JSON-ready values (for inspect and list_filings)."""
        return self.model_dump(
            mode="json",
            include={"filename", "format", "company", "cik", "ticker", "form", "fiscal_period",
                     "period_end", "filing_date"},
        )


class FilingError(Exception):
    """A file that cannot be read. ``str()`` names the file and the reason."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason
