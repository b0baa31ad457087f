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


@dataclass(frozen=True)
class FiscalCalendar:
    """Fiscal year-end (month, day) and how fiscal year numbers relate to the end date's year."""

    fye_month: int = 12
    fye_day: int = 31
    year_offset: int = 0  # fiscal year number = calendar year of the fiscal year end + offset
    # False when only the year-end day is known (a press release): labels then name the end date
    # instead of guessing a fiscal year number (Buckle's "fiscal 2024" ends in February 2025).
    year_known: bool = True

    def year_end_on_or_after(self, day: date) -> date:
        # 52/53-week years end up to a week either side of the nominal day.
        for year in (day.year - 1, day.year, day.year + 1):
            try:
                nominal = date(year, self.fye_month, min(self.fye_day, 28 if self.fye_month == 2 else 31))
            except ValueError:
                nominal = date(year, self.fye_month, 28)
            if nominal >= day - timedelta(days=7):
                return nominal
        return date(day.year + 1, self.fye_month, 28)

    def fiscal_year(self, end: date) -> int:
        return self.year_end_on_or_after(end).year + self.year_offset

    def label(self, start: date | None, end: date) -> tuple[int, str, str]:
        """(fiscal_year, fiscal_period, label) for a duration (start..end) or an instant (end)."""
        fy_end = self.year_end_on_or_after(end)
        fy = fy_end.year + self.year_offset
        months_left = round((fy_end - end).days / 30.44)
        quarter = max(1, min(4, 4 - round(months_left / 3)))
        if start is None:
            period = "FY" if months_left == 0 else f"Q{quarter}"
        else:
            span = months_between(start, end)
            if span > 10.5:
                period = "FY"
            elif span > 7.5:
                period = "9M"
            elif span > 4.5:
                period = "H1" if quarter <= 2 else "H2"
            elif span > 1.5:
                period = f"Q{quarter}"
            else:
                period = "M"
        if not self.year_known:
            return fy, period, f"{period} ended {end.isoformat()}"
        label = f"FY{fy}" if period == "FY" else f"{period} FY{fy}"
        return fy, period, label


def calendar_from(fy_end: date | None, fiscal_year: int | None = None) -> FiscalCalendar:
    """A calendar from one fiscal year-end date and, if known, the fiscal year it closes."""
    if fy_end is None:
        return FiscalCalendar()
    offset = (fiscal_year - fy_end.year) if fiscal_year is not None else 0
    return FiscalCalendar(fy_end.month, fy_end.day, offset)


def calendar_from_focus(period_end: date | None, fiscal_year: int | None, fye_md: str | None) -> FiscalCalendar:
    """From dei facts: DocumentPeriodEndDate, DocumentFiscalYearFocus, CurrentFiscalYearEndDate (--09-28)."""
    m = re.match(r"--(\d\d)-(\d\d)", fye_md or "")
    if m:
        cal = FiscalCalendar(int(m.group(1)), int(m.group(2)))
        if period_end is not None and fiscal_year is not None:
            cal = FiscalCalendar(cal.fye_month, cal.fye_day, fiscal_year - cal.year_end_on_or_after(period_end).year)
        return cal
    if period_end is not None:
        return calendar_from(period_end, fiscal_year)
    return FiscalCalendar()


def is_quarter(start: date | None, end: date) -> bool:
    return start is not None and 80 <= (end - start).days <= 100
