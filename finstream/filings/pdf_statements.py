"""Primary financial statements read from a PDF's text: titles, scale, column periods and rows.

A statement page starts with its title ("CONSOLIDATED STATEMENTS OF INCOME", "INCOME STATEMENTS",
"Consolidated Balance Sheets") near the top, then a scale line ("(In millions, except per share
data)", "(Millions, …)", "(000s)") and its column headings ("Years Ended December 2, 2022 …",
"Fiscal Years Ended January 31, 2023 2022 2021", "Three Months Ended Apr 1, 2023 Apr 2, 2022").
Each following line is a line item and one number per column. MD&A and selected-data tables
have no such title, and a page that restates the statement "as a percentage of revenue" is not
read as amounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from finstream.filings.numbers import clean_text, parse_number
from finstream.filings.periods import _MONTHS
from finstream.filings.table_facts import currency_from_text

_TITLE = re.compile(
    r"\b(?:statements?\s+of\s+(?:consolidated\s+)?(?:operations|income|earnings|comprehensive\s+(?:income|loss)|"
    r"cash\s+flows|financial\s+position|financial\s+condition)|balance\s+sheets?|income\s+statements?)\b",
    re.I,
)
_HEADING = re.compile(
    r"^(?:[A-Z][\w.,&'\- ]{1,60}?\s+)??(?:(?:condensed|consolidated|combined|interim)\s+){0,3}"
    r"(?:statements?\s+of\s+(?:consolidated\s+)?(?:operations|income|earnings|comprehensive\s+(?:income|loss)|"
    r"profit\s+or\s+loss(?:\s+and\s+other\s+comprehensive\s+income)?|"
    r"(?:income|loss|operations)\s+and\s+comprehensive\s+(?:income|loss)|cash\s+flows|financial\s+position|"
    r"financial\s+condition)|balance\s+sheets?|(?:comprehensive\s+)?income\s+statements?)"
    r"(?:\s+and\s+other\s+information)?(?:\s*\((?:unaudited|continued)\))?\s*$",
    re.I,
)
_KIND = (("balance", re.compile(r"balance|financial position|financial condition", re.I)),
         ("cash flows", re.compile(r"cash flows", re.I)),
         ("comprehensive income", re.compile(r"comprehensive", re.I)),
         ("income", re.compile(r".", re.I)))
_NOT_AMOUNTS = re.compile(r"percent(age)?\s+of|as a %|% of (total )?(net )?revenue", re.I)
_SCALE = re.compile(
    r"(?:\bin\s+|\(\s*|amounts\s+in\s+|dollars\s+in\s+|\$\s*in\s+)(billions|millions|thousands)\b|\((000)s?\)|\bin\s+(000)s\b",
    re.I,
)
_EXCEPT_SHARES = re.compile(r"except\s+(?:for\s+)?(?:number\s+of\s+)?shares?\b(?!\s*(?:data|amounts))", re.I)
_DATE = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+((?:19|20)\d\d)\b")
_DATE_DMY = re.compile(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+((?:19|20)\d\d)\b")
_MONTH_DAY_DM = re.compile(r"\bended\s+(\d{1,2})\s+([A-Za-z]{3,9})\b", re.I)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_MONTH_DAY = re.compile(r"\bended\s+([A-Za-z]{3,9})\.?\s+(\d{1,2})\b", re.I)
_DURATION = re.compile(
    r"\b(three|six|nine|twelve|3|6|9|12)\s+months\s+ended|\b(13|26|39|52|53|thirteen|twenty-six|thirty-nine|fifty-two|"
    r"fifty-three)\s+weeks\s+ended|\b(?:fiscal\s+)?years?\s+ended|\bquarters?\s+ended",
    re.I,
)
_VALUE = re.compile(r"^\(?-?\$?[\d,]*\d(?:\.\d+)?\)?%?$|^[—–-]$")


@dataclass
class Statement:
    kind: str  # income, balance, cash flows, comprehensive income
    title: str
    page: int
    columns: list[str]  # headings that name each column's period
    rows: list[list[object]]  # [line item, value per column]
    scale: int
    shares_scale: int
    header: str
    skipped_rows: int = 0
    currency: str = "USD"
    scale_known: bool = True


def _scale(text: str) -> int | None:
    m = _SCALE.search(text)
    if not m:
        return None
    if m.group(1):
        return {"billions": 9, "millions": 6, "thousands": 3}[m.group(1).lower()]
    return 3  # "(000s)"


def _values(line: str) -> tuple[str, list[str]]:
    """(label, trailing value tokens) of one text line ("Net income $ 199 $ 28")."""
    tokens = line.split()
    vals: list[str] = []
    while tokens:
        tok = tokens[-1]
        if tok == "$":
            tokens.pop()
            continue
        if tok == "%":
            tokens.pop()
            vals.insert(0, "%")
            continue
        if _VALUE.match(tok.replace("$", "")) and not re.fullmatch(r"\(\d\)", tok):
            vals.insert(0, tok)
            tokens.pop()
            continue
        break
    # Footnote marks after a line item ("Restructuring (3)", "Revenue (a)", "Net sales*") go.
    label = re.sub(r"(?:\s*(?:\((?:[a-z]|\d{1,2})\)|[*†‡]))+$", "", " ".join(tokens).rstrip(" $"))
    return label, vals


def _dates(header: str) -> list[date]:
    """Dates in a heading, in order, written month first ("Apr 1, 2023") or day first ("31 December 2023")."""
    found = []
    for m in _DATE.finditer(header):
        if m.group(1).lower() in _MONTHS:
            found.append((m.start(), _MONTHS[m.group(1).lower()], int(m.group(2)), int(m.group(3))))
    for m in _DATE_DMY.finditer(header):
        if m.group(2).lower() in _MONTHS:
            found.append((m.start(), _MONTHS[m.group(2).lower()], int(m.group(1)), int(m.group(3))))
    out = []
    for _pos, month, day, year in sorted(found):
        try:
            out.append(date(year, month, day))
        except ValueError:
            continue
    return out


def _month_day(header: str) -> tuple[int, int] | None:
    m = _MONTH_DAY.search(header)
    if m and m.group(1).lower() in _MONTHS:
        return _MONTHS[m.group(1).lower()], int(m.group(2))
    m = _MONTH_DAY_DM.search(header)
    if m and m.group(2).lower() in _MONTHS:
        return _MONTHS[m.group(2).lower()], int(m.group(1))
    return None


_FISCAL_YEAR = re.compile(r"\bfiscal\s+(?:year\s+)?((?:19|20)\d\d)\b", re.I)


def _column_headings(header: str, n: int, kind: str, year_end: date | None = None) -> list[str] | None:
    """One heading per value column: "Three Months Ended April 30, 2023", "December 2, 2022".

    Columns headed only "Fiscal 2023 Fiscal 2022" end on the cover's fiscal year end; the latest
    column is the cover's year (a company may call the year ended January 2024 "fiscal 2023").
    """
    dates = _dates(header)
    years = _YEAR.findall(header)
    fiscal = _FISCAL_YEAR.findall(header)
    if len(dates) >= n:
        ends = [f"{d:%B} {d.day}, {d.year}" for d in dates[-n:]]
    elif len(fiscal) >= n and year_end is not None and kind != "balance":
        shift = year_end.year - max(int(y) for y in fiscal[-n:])
        if abs(shift) > 1:
            return None
        ends = [f"{year_end:%B} {year_end.day}, {int(y) + shift}" for y in fiscal[-n:]]
    elif len(years) >= n:
        md = _month_day(header) or ((dates[0].month, dates[0].day) if dates else None)
        if md is None and year_end is not None:
            md = (year_end.month, year_end.day)
        if md is None:
            return None
        month = date(2001, md[0], 1).strftime("%B")
        ends = [f"{month} {md[1]}, {y}" for y in years[-n:]]
    else:
        return None
    if kind == "balance":
        return ends
    phrases = [m.group(0) for m in _DURATION.finditer(header)]
    if not phrases:
        phrases = ["Year Ended"]
    per = max(1, n // len(phrases)) if len(phrases) <= n else n
    return [f"{phrases[min(i // per, len(phrases) - 1)]} {end}" for i, end in enumerate(ends)]


def find_statements(
    texts: list[str], year_end: date | None = None, notes: list[str] | None = None
) -> list[Statement]:
    """Every primary statement printed in the pages' text (at most one per page); ``year_end`` is
    the cover's fiscal year end, for columns headed by a year alone ("Fiscal 2023"). A statement
    whose columns cannot be given periods is left out and told in ``notes``."""
    out: list[Statement] = []
    for page, text in enumerate(texts, start=1):
        lines = [clean_text(x) for x in text.splitlines() if x.strip()]
        for i in range(min(len(lines) - 1, 18)):
            # A title broken over two lines: "CONSOLIDATED STATEMENTS OF" / "OPERATIONS".
            if re.search(r"\b(of|and)$", lines[i], re.I) and len(lines[i]) + len(lines[i + 1]) < 120:
                lines[i : i + 2] = [f"{lines[i]} {lines[i + 1]}"]
        title_at = next(
            (i for i, ln in enumerate(lines[:18])
             if len(ln) < 130 and _HEADING.match(ln) and not re.search(r"\bnotes?\s+to\b|\bindex\b", ln, re.I)),
            None,
        )
        if title_at is None:
            continue
        statement = _read(lines, title_at, page, year_end, notes)
        if statement is not None:
            out.append(statement)
    return out


def _read(
    lines: list[str], title_at: int, page: int, year_end: date | None = None, notes: list[str] | None = None
) -> Statement | None:
    title = lines[title_at]
    kind = next(k for k, rx in _KIND if rx.search(title))
    body_at = None
    for i in range(title_at + 1, min(len(lines), title_at + 25)):
        label, vals = _values(lines[i])
        if (vals and label and not all(_YEAR.fullmatch(v) for v in vals) and not _DATE.search(label)
                and not _DURATION.search(lines[i]) and label.split()[-1].lower().rstrip(".,") not in _MONTHS):
            body_at = i
            break
    if body_at is None:
        return None
    header = " ".join(lines[title_at:body_at])
    if _NOT_AMOUNTS.search(header):
        return None  # the statement again, as percentages of revenue
    counts: dict[int, int] = {}
    parsed: list[tuple[str, list[str]]] = []
    for ln in lines[body_at:]:
        label, vals = _values(ln)
        # A long line item wraps: "Net income attributable to common" / "stockholders $ 1 $ 2".
        if parsed and not parsed[-1][1] and label[:1].islower() and not parsed[-1][0].endswith(":"):
            label = f"{parsed.pop()[0]} {label}"
        parsed.append((label, vals))
        if vals and label:
            counts[len(vals)] = counts.get(len(vals), 0) + 1
    if not counts:
        return None
    n = max(counts, key=lambda k: (counts[k], k))
    if n < 1 or n > 6 or counts[n] < 5:
        return None
    columns = _column_headings(header, n, kind, year_end)
    if columns is None:
        if notes is not None:
            notes.append(
                f"page {page}: {title!r} has {n} columns whose periods its headings do not state; "
                "its figures are left out"
            )
        return None
    rows: list[list[object]] = []
    skipped = 0
    for label, vals in parsed:
        if not label:
            continue
        if not vals:
            rows.append([label] + [None] * n)
            continue
        if any("%" in v for v in vals):
            skipped += 1
            continue
        if len(vals) < n:
            skipped += 1
            continue
        rows.append([label] + [parse_number(v) for v in vals[-n:]])
    scale = _scale(" ".join(lines[max(0, title_at - 2) : body_at]))
    shares = 0 if _EXCEPT_SHARES.search(header) else (scale or 0)
    currency = currency_from_text(" ".join(lines[max(0, title_at - 2) : body_at]))
    return Statement(kind, title, page, columns, rows, scale or 0, shares, header, skipped, currency, scale is not None)


_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_RELEASE = re.compile(
    r"\b(first|second|third|fourth)[\s\-]+(?:fiscal\s+)?quarter(?:\s+(?:of\s+)?(?:fiscal\s+(?:year\s+)?)?((?:19|20)\d\d))?"
    r"|\bQ([1-4])\s+(?:fiscal\s+|FY\s*)?((?:19|20)\d\d)",
    re.I,
)


def release_quarter(text: str) -> tuple[int, int | None] | None:
    """(quarter, fiscal year or None) an earnings release announces ("first quarter fiscal 2024")."""
    m = _RELEASE.search(text)
    if not m:
        return None
    if m.group(1):
        return _ORDINAL[m.group(1).lower()], int(m.group(2)) if m.group(2) else None
    return int(m.group(3)), int(m.group(4))


def cover_period_end(text: str) -> date | None:
    from finstream.filings.periods import parse_date

    m = re.search(
        r"(?:fiscal\s+year|quarterly\s+period|quarter|period|year)\s+ended\s*:?\s*([A-Za-z]+\.?\s+\d{1,2},?\s+\d{4})",
        text,
        re.I,
    )
    return parse_date(m.group(1)) if m else None


_RELEASE_COMPANY = re.compile(
    r"^[ \t]*([A-Z][\w.&\-]*(?:[ \t]+[A-Z][\w.&\-]*){0,3}?)(?:,?[ \t]+(?:Inc|Corp(?:oration)?|Company)\.?,?)?[ \t]+"
    r"(?:Reports|Announces|Posts)\b",
    re.M,
)


def release_company(text: str) -> str | None:
    """The company in an earnings release's headline ("Adobe Reports Record Revenue …")."""
    m = _RELEASE_COMPANY.search(text)
    return m.group(1).strip() if m else None


def fiscal_year_named(statements: list[Statement], year_end: date | None) -> int | None:
    """The fiscal year number a 10-K's statements give its latest year ("Fiscal 2023" columns
    ending on the cover's January 2024 year end: 2023), or None when they only print dates."""
    if year_end is None:
        return None
    for st in statements:
        named = [int(y) for y in _FISCAL_YEAR.findall(st.header)]
        if named and abs(year_end.year - max(named)) <= 1:
            return max(named)
    return None
