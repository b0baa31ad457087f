"""Periods as answers name them ("FY2024", "Q2 FY2025", "fiscal 2024", "the second quarter of fiscal
2025", "September 28, 2024") and as facts carry them, reduced to one comparable key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from finstream.filings.periods import parse_date

_ORD = {"first": "Q1", "second": "Q2", "third": "Q3", "fourth": "Q4"}
_YEAR = r"(?:'|’)?((?:19|20)\d\d|\d\d)\b"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Q2 FY2025, Q2 2025, Q2 FY25, Q2 fiscal 2025, H1 FY2025, 9M FY2025, FY2025 Q2
    (re.compile(rf"\b(Q[1-4]|H[12]|9M)\s*(?:of\s+)?(?:FY|fiscal(?:\s+year)?)?\s*{_YEAR}", re.I), "pq"),
    (re.compile(rf"\b(?:FY|fiscal(?:\s+year)?)\s*{_YEAR}\s*(Q[1-4]|H[12])\b", re.I), "yq"),
    # the second quarter of fiscal 2025, third fiscal quarter of 2024
    (re.compile(rf"\b(first|second|third|fourth)\s+(?:fiscal\s+)?quarter\s+(?:of\s+)?(?:fiscal\s+(?:year\s+)?)?{_YEAR}", re.I), "oq"),
    (re.compile(rf"\b(?:FY|fiscal\s+year|fiscal)\s*{_YEAR}", re.I), "fy"),
    (re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s*(?:19|20)\d\d\b"), "date"),
    (re.compile(r"\b(?:19|20)\d\d-\d\d-\d\d\b"), "date"),
    # a bare year after a preposition: "in 2024" (loose: a calendar or a fiscal year)
    (re.compile(r"\b(?:in|for|of|during|since|from|to|and|vs|versus|over|through|–|-)\s?((?:19|20)\d\d)\b(?![-/]\d)"), "year"),
)
_ENDED = re.compile(r"^\s*(FY|Q[1-4]|H[12]|9M)\s+ended\s+(\d{4}-\d\d-\d\d)\s*$", re.I)
_RANGE_JOIN = re.compile(r"^\s*(?:–|—|-|to|through|thru|until)\s*$", re.I)


@dataclass(frozen=True)
class Period:
    """A period key: kind FY/Q1..Q4/H1/H2/9M with a fiscal year, or an end date."""

    kind: str | None = None
    year: int | None = None
    end: date | None = None
    loose: bool = False  # a bare year: either the fiscal or the calendar year

    def label(self) -> str:
        if self.end is not None and (self.kind is None or self.year is None):
            return f"{self.kind} ended {self.end.isoformat()}" if self.kind else self.end.isoformat()
        if self.kind == "FY":
            return f"FY{self.year}"
        return f"{self.kind} FY{self.year}"


@dataclass(frozen=True)
class Mention:
    """A period named in a text, with where it is."""

    period: Period
    start: int
    end: int


def _year(raw: str) -> int:
    y = int(raw)
    return y + 2000 if y < 100 else y


def _from_match(kind: str, m: re.Match[str]) -> Period | None:
    if kind == "pq":
        return Period(m.group(1).upper(), _year(m.group(2)))
    if kind == "yq":
        return Period(m.group(2).upper(), _year(m.group(1)))
    if kind == "oq":
        return Period(_ORD[m.group(1).lower()], _year(m.group(2)))
    if kind == "fy":
        return Period("FY", _year(m.group(1)))
    if kind == "date":
        d = parse_date(m.group(0))
        return Period(end=d) if d else None
    if kind == "year":
        return Period("FY", int(m.group(1)), loose=True)
    return None


def find_periods(text: str) -> list[Mention]:
    """Every period named in text, left to right, without overlaps (the more specific name wins)."""
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _PATTERNS:
        for m in pattern.finditer(text):
            start = m.start(1) if kind == "year" else m.start()
            if any(start < e and s < m.end() for s, e in taken):
                continue
            period = _from_match(kind, m)
            if period is not None:
                found.append(Mention(period, start, m.end()))
                taken.append((start, m.end()))
    found.sort(key=lambda x: x.start)
    return found


def parse_period(text: str | None) -> Period | None:
    """The one period a label names ("FY2024", "Q2 FY2025", "2024-09-28"), or None."""
    if not text:
        return None
    ended = _ENDED.match(text)
    if ended:  # "Q3 ended 2024-11-02": the filing does not say which fiscal year
        return Period(ended.group(1).upper(), None, parse_date(ended.group(2)))
    mentions = find_periods(text)
    if not mentions:
        m = re.fullmatch(r"\s*((?:19|20)\d\d)\s*", text)
        return Period("FY", int(m.group(1)), loose=True) if m else None
    return mentions[0].period


def ranges(text: str, mentions: list[Mention]) -> list[tuple[Mention, Mention]]:
    """Pairs of mentions written as a range: "FY2021–FY2025", "2021 to 2024"."""
    out = []
    for a, b in zip(mentions, mentions[1:], strict=False):
        if _RANGE_JOIN.match(text[a.end : b.start]):
            out.append((a, b))
    return out


def matches(claimed: Period, fact_period: Period | None, fact_end: date | None) -> bool:
    """Whether a fact (its period label, its end date) is in the period an answer names."""
    if claimed.kind is None and claimed.end is not None:
        return fact_end is not None and abs((fact_end - claimed.end).days) <= 3
    if fact_period is None:
        return False
    if claimed.kind != fact_period.kind:
        return False
    if claimed.year == fact_period.year or fact_period.year is None:
        return True  # a fact labelled only by its end date ("Q3 ended 2024-11-02") has no year to compare
    # "in 2024" may mean the calendar year the fiscal year ends in.
    return claimed.loose and fact_end is not None and fact_end.year == claimed.year and claimed.kind == "FY"
