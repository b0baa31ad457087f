"""Facts from printed tables (press releases, PDFs, CSV and Excel exports) as line items.

The concept of such a fact is its row label ("Net sales"); concepts.py maps common names to label
patterns. A column's period comes from its heading ("Thirteen Weeks Ended November 2, 2024",
"Sep. 30, 2023", "2021" under "Year Ended December 31,").
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from finstream.filings.model import Fact, Source, Table
from finstream.filings.periods import (
    _MONTHS,
    FiscalCalendar,
    calendar_from,
    duration_months,
    parse_date,
)

_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_MONTH_DAY = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})\b")
_BALANCE = re.compile(r"balance sheet|financial position|financial condition|assets", re.I)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}


def column_period(header: str, context: str) -> tuple[date | None, int | None]:
    """(period end, months or None for an instant/unknown) for one column heading."""
    end = parse_date(header)
    if end is None:
        years = _YEAR.findall(header)
        if len(years) == 1:
            month_day = next(
                (
                    (_MONTHS[m.group(1).lower()], int(m.group(2)))
                    for m in _MONTH_DAY.finditer(f"{header} {context}")
                    if m.group(1).lower() in _MONTHS and 1 <= int(m.group(2)) <= 31
                ),
                (12, 31),
            )
            try:
                end = date(int(years[0]), *month_day)
            except ValueError:
                end = date(int(years[0]), month_day[0], 28)
    months = duration_months(header) or duration_months(context)
    return end, months


def press_calendar(text: str, latest_quarter_end: date | None) -> FiscalCalendar | None:
    """A press release says "third quarter of fiscal 2024": that fixes the fiscal calendar."""
    if latest_quarter_end is None:
        return None
    q = re.search(r"\b(first|second|third|fourth)\s+(?:fiscal\s+)?quarter(?:\s+of\s+fiscal\s+((?:19|20)\d\d))?", text, re.I)
    if not q:
        return None
    quarters_left = 4 - _ORDINAL[q.group(1).lower()]
    fy_end = latest_quarter_end + timedelta(days=round(quarters_left * 91.3))
    cal = calendar_from(fy_end, int(q.group(2)) if q.group(2) else None)
    return cal if q.group(2) else FiscalCalendar(cal.fye_month, cal.fye_day, 0, year_known=False)


def _start(end: date, months: int) -> date:
    if months == 12:
        try:
            return end.replace(year=end.year - 1) + timedelta(days=1)
        except ValueError:  # 29 February
            return end - timedelta(days=364)
    return end - timedelta(days=round(months * 30.44) - 1)


def _unit_for(label: str, is_pct: bool) -> tuple[str, bool]:
    """(unit, takes the money scale?) for a line item."""
    low = label.lower()
    if re.search(r"\bper\s+(?:[\w-]+\s+){0,3}shares?\b|\bper\s+(?:ads|adr|unit)\b|\beps\b", low):
        return "USD/shares", False  # per share, per common share, per diluted share: never scaled
    if is_pct or low.endswith("%") or "percent" in low or "margin %" in low:
        return "%", False
    if re.search(r"\bshares\b|\bin shares\b", low) and "per" not in low:
        return "shares", True
    return "USD", True


def facts_from_table(
    table: Table,
    document: str,
    *,
    scale: int = 0,
    shares_scale: int = 0,
    context: str = "",
    calendar: FiscalCalendar | None = None,
    table_ref: str | None = None,
    form: str | None = None,
    currency: str = "USD",
) -> list[Fact]:
    headers = table.columns[1:]
    ctx = f"{table.title} {context}"
    periods = [column_period(h, ctx) for h in headers]
    if not any(end for end, _ in periods):
        return []
    ends = sorted({e for e, _ in periods if e})
    annual_spacing = len(ends) >= 2 and all(330 <= (b - a).days <= 400 for a, b in zip(ends, ends[1:], strict=False))
    balance = bool(_BALANCE.search(table.title)) or any(
        re.match(r"total (current )?assets", str(r[0]), re.I) for r in table.rows
    )
    cal = calendar or (calendar_from(max(ends), max(ends).year) if ends else FiscalCalendar())
    out: list[Fact] = []
    heading = ""
    for row in table.rows:
        own = str(row[0] or "").strip()
        has_values = any(isinstance(v, int | float) for v in row[1:])
        if not has_values:
            heading = own.rstrip(":").strip() if own.endswith(":") else ""
            continue
        if not own or own.isupper() or own.lower().startswith("total"):
            heading = ""  # a subtotal or a top-level line item closes the heading's group
        if not own:
            continue
        # "Basic" under "EARNINGS PER SHARE:" is basic EPS; the heading makes the line item.
        label = f"{heading}: {own}" if heading and len(own) < 40 else own
        unit, scaled = _unit_for(own if re.search(r"\bshares\b", own, re.I) else label, False)
        if currency != "USD" and unit.startswith("USD"):
            unit = currency + unit[3:]
        for col, (end, months) in enumerate(periods, start=1):
            if end is None or col >= len(row) or not isinstance(row[col], int | float):
                continue
            if months is None and not balance and annual_spacing:
                months = 12
            start = None
            if months and (not balance or "ended" in headers[col - 1].lower()):
                start = _start(end, months)
            power = (shares_scale if unit == "shares" else scale) if scaled else 0
            fy, fp, period = cal.label(start, end)
            out.append(
                Fact(
                    concept=label,
                    label=label,
                    value=float(row[col]) * 10**power,
                    unit=unit,
                    scale=power,
                    period_start=start,
                    period_end=end,
                    fiscal_year=fy,
                    fiscal_period=fp,
                    form=form,
                    source=Source(
                        document=document,
                        section=table.section,
                        page=table.page,
                        table=table_ref or table.title,
                        concept=label,
                        context=headers[col - 1] or None,
                        period=period,
                    ),
                )
            )
    return out


_CURRENCIES = (
    ("EUR", r"\beuros?\b|€|\bEUR\b"), ("GBP", r"\bpounds?\s+sterling\b|£|\bGBP\b"), ("JPY", r"\byen\b|¥|\bJPY\b"),
    ("TWD", r"\bNT\$|new taiwan dollars?|\bTWD\b"), ("CNY", r"\brenminbi\b|\bRMB\b|\bCNY\b"),
    ("CAD", r"\bcanadian dollars?\b|\bC\$|\bCAD\b"), ("CHF", r"\bswiss francs?\b|\bCHF\b"),
    ("INR", r"\brupees?\b|₹|\bINR\b"), ("KRW", r"\bwon\b|₩|\bKRW\b"),
)


def currency_from_text(text: str) -> str:
    """The currency a statement heading names ("in thousands of euros", "NT$ in millions"); USD if none."""
    for code, pattern in _CURRENCIES:
        if re.search(pattern, text, re.I):
            return code
    return "USD"
