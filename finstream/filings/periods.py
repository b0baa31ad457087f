"""Naming periods the way analysts do (FY2024, Q2 FY2025, H1 FY2025) from their dates.

A company's fiscal year can end on any day, and 52/53-week years move that day by a few days, so
labels are computed from the fiscal year-end month/day and an anchor (a period whose fiscal year
the filing states), not from calendar years.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ]
    )
    for m in names
}
_DATE = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s*((?:19|20)\d\d)\b")
_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")


def parse_date(text: str | None) -> date | None:
    """First date written like "Sep. 30, 2023", "November 2, 2024" or "2023-09-30" in text."""
    if not text:
        return None
    m = _ISO.search(text)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    for m in _DATE.finditer(text):
        month = _MONTHS.get(m.group(1).lower())
        if month:
            try:
                return date(int(m.group(3)), month, int(m.group(2)))
            except ValueError:
                continue
    return None


def duration_months(text: str) -> int | None:
    """Months a heading says a column covers ("Thirteen Weeks Ended" -> 3, "Year Ended" -> 12)."""
    t = text.lower()
    for pattern, months in (
        (r"\b(3|three)\s+months|\b(13|thirteen|14|fourteen)\s+weeks|quarter", 3),
        (r"\b(6|six)\s+months|\b(26|twenty-six|27|twenty-seven)\s+weeks", 6),
        (r"\b(9|nine)\s+months|\b(39|thirty-nine|40|forty)\s+weeks", 9),
        (r"\b(12|twelve)\s+months|\b(52|fifty-two|53|fifty-three)\s+weeks|years?\s+ended|fiscal\s+year|annual", 12),
    ):
        if re.search(pattern, t):
            return months
    return None


def months_between(start: date, end: date) -> float:
    return ((end - start).days + 1) / 30.44


_NEAR = 10  # days: a 52/53-week year, or a quarter, ends within this of its nominal date


def parse_fiscal_year_end(text: str | None) -> tuple[int, int] | None:
    """(month, day) of a cover's fiscal year end in any written form.

    ``--12-31``, ``--1231``, ``12/31``, ``12-31``, ``1/28``, ``December 31``, ``Dec. 31``, ``31 December``
    and a full date (``2023-12-30``, ``December 30, 2023``). Numeric forms are read month first,
    as EDGAR's ixt:date-month-day writes them.
    """
    t = " ".join((text or "").replace("\xa0", " ").split()).strip().lower().rstrip(".")
    if not t:
        return None
    m = re.fullmatch(r"--(\d\d)-?(\d\d)", t) or re.fullmatch(r"(\d{1,2})\s*[/\-.]\s*(\d{1,2})", t)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
    elif (d := parse_date(text)) is not None:
        month, day = d.month, d.day
    else:
        m = re.fullmatch(r"([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?", t) or None
        n = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})", t) or None
        if m and m.group(1) in _MONTHS:
            month, day = _MONTHS[m.group(1)], int(m.group(2))
        elif n and n.group(2) in _MONTHS:
            month, day = _MONTHS[n.group(2)], int(n.group(1))
        else:
            return None
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return month, day


@dataclass(frozen=True)
class FiscalCalendar:
    """A company's fiscal year: its nominal end (month, day) and how it names its years.

    A period belongs to the fiscal year whose end falls on or after it (allowing a 52/53-week year
    to end up to ten days either side of the nominal day); quarters are numbered from that year's
    start. ``year_offset`` turns the calendar year of a fiscal year's end into the company's name
    for it: 0 for most (Walmart's year ended January 2024 is fiscal 2024), -1 for a company that
    names a year after the one it begins in (Home Depot's year ended February 2025 is fiscal 2024).
    """

    fye_month: int = 12
    fye_day: int = 31
    year_offset: int = 0
    # False when only the year-end day is known (a press release): labels then name the end date
    # instead of guessing a fiscal year number (Buckle's "fiscal 2024" ends in February 2025).
    year_known: bool = True
    weeks_52_53: bool = False
    # False when nothing states the fiscal year (an 8-K's cover): periods are then named by their
    # span and end date ("3 months ended 2024-11-02"), never given a guessed quarter number.
    quarters_known: bool = True

    def nominal_end(self, year: int) -> date:
        day = self.fye_day
        while True:
            try:
                return date(year, self.fye_month, day)
            except ValueError:
                day -= 1

    def year_end_on_or_after(self, day: date) -> date:
        """The nominal end of the fiscal year that ``day`` falls in."""
        for year in (day.year - 1, day.year, day.year + 1):
            nominal = self.nominal_end(year)
            if nominal >= day - timedelta(days=_NEAR):
                return nominal
        return self.nominal_end(day.year + 1)

    def fiscal_year(self, end: date) -> int:
        return self.year_end_on_or_after(end).year + self.year_offset

    def label(self, start: date | None, end: date) -> tuple[int, str | None, str]:
        """(fiscal_year, fiscal_period, label) for a duration (start..end) or an instant (end).

        fiscal_period is FY, Q1-Q4 (three months), H1 (six months from the year's start), 9M
        (nine months from the year's start), H2, TTM (twelve months ending mid-year) or nM for
        other spans; an instant is labelled by the period it closes (Q2, or FY at the year end).
        """
        if not self.quarters_known:
            if start is None:
                return end.year, None, f"as of {end.isoformat()}"
            return end.year, None, f"{round(months_between(start, end))} months ended {end.isoformat()}"
        fy_end = self.year_end_on_or_after(end)
        fy = fy_end.year + self.year_offset
        fy_start = self.nominal_end(fy_end.year - 1) + timedelta(days=1)
        quarter = max(1, min(4, round(((end - fy_start).days + 1) / 30.44 / 3)))
        at_year_end = abs((fy_end - end).days) <= _NEAR
        if start is None:
            period = "FY" if at_year_end else f"Q{quarter}"
        else:
            months = months_between(start, end)
            # Retail calendars have 12- and 16-week quarters (Kroger's first quarter is 16 weeks):
            # a period of 2.5 to 4.6 months is a quarter, 5-7 a half, 8-10 nine months.
            span = 3 if 2.5 <= months <= 4.6 else 6 if 5 <= months <= 7 else 9 if 8 <= months <= 10 else round(months)
            from_year_start = abs((start - fy_start).days) <= _NEAR
            if span == 12:
                period = "FY" if at_year_end else "TTM"
            elif span == 3:
                period = f"Q{quarter}"
            elif span == 6 and from_year_start:
                period = "H1"
            elif span == 6 and at_year_end:
                period = "H2"
            elif span == 9 and from_year_start:
                period = "9M"
            else:
                period = f"{span}M"
        if not self.year_known or period in ("TTM",) or (period.endswith("M") and period != "9M"):
            return fy, period, f"{period} ended {end.isoformat()}"
        label = f"FY{fy}" if period == "FY" else f"{period} FY{fy}"
        return fy, period, label

    def describe(self) -> str:
        """'fiscal year ends --09-30 (52/53-week), named after the year in which it ends'."""
        if not self.quarters_known:
            return "fiscal year end not stated; periods are named by their span and end date"
        weeks = " (52/53-week years)" if self.weeks_52_53 else ""
        if not self.year_known:
            naming = "fiscal year number not stated"
        elif self.year_offset == 0:
            naming = "named after the calendar year in which it ends"
        elif self.year_offset == -1:
            naming = "named after the calendar year in which it begins"
        else:
            naming = f"named as the end year {self.year_offset:+d}"
        return f"fiscal year ends --{self.fye_month:02d}-{self.fye_day:02d}{weeks}, {naming}"


def calendar_from(fy_end: date | None, fiscal_year: int | None = None) -> FiscalCalendar:
    """A calendar from one fiscal year-end date and, if known, the fiscal year it closes."""
    if fy_end is None:
        return FiscalCalendar()
    offset = (fiscal_year - fy_end.year) if fiscal_year is not None else 0
    return FiscalCalendar(fy_end.month, fy_end.day, offset if abs(offset) <= 1 else 0)


_QUARTER = {"Q1": 1, "Q2": 2, "Q3": 3, "Q4": 4, "FY": 4, "H1": 2, "H2": 4, "M9": 3, "9M": 3}


def calendar_from_focus(
    period_end: date | None,
    fiscal_year: int | None,
    fye_md: str | None,
    fiscal_period: str | None = None,
    warnings: list[str] | None = None,
    annual: bool = False,
) -> FiscalCalendar:
    """The calendar a cover states: CurrentFiscalYearEndDate (any written form), the document
    period end, DocumentFiscalYearFocus (how the company names its year) and
    DocumentFiscalPeriodFocus (which quarter the document period closes).

    Without a year end on the cover it is inferred from the period focus (a Q1 ending 2015-09-30
    puts the year end nine months later). Disagreements are told in ``warnings``.
    """
    notes = warnings if warnings is not None else []
    fp = (fiscal_period or "").strip().upper()
    md = parse_fiscal_year_end(fye_md)
    if md is None and period_end is not None:
        q = _QUARTER.get(fp)
        if q is not None:
            md = _snap_to_month_end(_add_months(period_end, 3 * (4 - q)), period_end.year)
        elif annual or fp == "FY":
            md = (period_end.month, period_end.day)
            if fye_md:
                notes.append(f"fiscal year end {fye_md!r} not understood; assumed the period end {period_end}")
        else:
            if fye_md:
                notes.append(f"fiscal year end {fye_md!r} not understood; periods are named by their dates")
            return FiscalCalendar(quarters_known=False)
    if md is None:
        return FiscalCalendar()
    cal = FiscalCalendar(md[0], md[1])
    if period_end is None:
        return cal
    weeks = _is_52_53(cal, period_end)
    offset = 0
    if fiscal_year is not None:
        offset = fiscal_year - cal.year_end_on_or_after(period_end).year
        if abs(offset) > 1:
            notes.append(
                f"DocumentFiscalYearFocus {fiscal_year} is far from the period end {period_end}; "
                "fiscal years are named after the year in which they end"
            )
            offset = 0
    cal = FiscalCalendar(md[0], md[1], offset, weeks_52_53=weeks)
    if fp in ("Q1", "Q2", "Q3", "Q4", "FY"):
        _, got, _ = cal.label(None, period_end)
        if got != fp and not (fp == "Q4" and got == "FY"):
            notes.append(
                f"the cover says the period ended {period_end} is {fp}, but a fiscal year ending "
                f"--{md[0]:02d}-{md[1]:02d} makes it {got}; labels follow the fiscal year end"
            )
    return cal


def _add_months(day: date, months: int) -> tuple[int, int]:
    """(month, day) some months after ``day``, keeping month ends at month ends."""
    month_end = (day + timedelta(days=1)).day == 1
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    if month_end:
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return month, (nxt - timedelta(days=1)).day
    return month, min(day.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)


def _snap_to_month_end(md: tuple[int, int], year: int) -> tuple[int, int]:
    """A year end inferred from a 52/53-week quarter (Apr 1 + 9 months = Jan 1) is the month end
    it falls within a week of (Dec 31)."""
    month, day = md
    try:
        d = date(year, month, day)
    except ValueError:
        return md
    for delta in range(-7, 8):
        x = d + timedelta(days=delta)
        if (x + timedelta(days=1)).day == 1:
            return x.month, x.day
    return md


def _is_52_53(cal: FiscalCalendar, period_end: date) -> bool:
    """Month-end years have month-end periods; anything else (a Saturday, the 1st of December)
    is a 52/53-week year that ends near its nominal day."""
    def month_end(d: date) -> bool:
        return (d + timedelta(days=1)).day == 1

    return not (month_end(cal.nominal_end(period_end.year)) and month_end(period_end))


def is_quarter(start: date | None, end: date) -> bool:
    return start is not None and 80 <= (end - start).days <= 100


def calendar_info(cal: FiscalCalendar, source: str):
    """The calendar as the Filing model stores it."""
    from finstream.filings.model import FiscalCalendarInfo

    return FiscalCalendarInfo(
        fiscal_year_end=f"--{cal.fye_month:02d}-{cal.fye_day:02d}",
        weeks_52_53=cal.weeks_52_53,
        year_offset=cal.year_offset,
        year_known=cal.year_known,
        description=cal.describe(),
        source=source,
    )
