"""Plain HTML documents: press releases (EX-99.1, possibly still in EDGAR's SGML wrapper), exhibits.

Their statements are printed tables without XBRL tags, so the facts are the tables' line items.
"""

from __future__ import annotations

import re

from finstream.filings import html_doc
from finstream.filings.html_doc import STATEMENT_TITLE
from finstream.filings.model import Fact, Filing
from finstream.filings.numbers import clean_text, scale_from_text
from finstream.filings.pdf_statements import release_company, release_quarter
from finstream.filings.periods import FiscalCalendar, calendar_from_focus, calendar_info, is_quarter
from finstream.filings.safe_xml import parse_html
from finstream.filings.table_facts import facts_from_table, press_calendar

_FORWARD = re.compile(r"\b(targets?|outlook|guidance|forecast|projected)\b", re.I)
_SGML_TEXT = re.compile(rb"<TEXT>(.*?)(?:</TEXT>|\Z)", re.S | re.I)
_COMPANY = re.compile(r"\b((?:The\s+)?[A-Z][\w&.'\-]*(?:\s+[A-Z][\w&.'\-]*){0,4},?\s+(?:Inc|Corp|Corporation|Co|Ltd|plc|LLC|N\.V|S\.A)\.?)(?![A-Za-z])")


def unwrap_sgml(data: bytes) -> tuple[bytes, dict[str, str]]:
    """The HTML inside an EDGAR ``<DOCUMENT>`` wrapper, and the wrapper's TYPE/FILENAME fields."""
    head = data[:2000]
    if not re.match(rb"\s*<(DOCUMENT|SEC-DOCUMENT)>", head, re.I):
        return data, {}
    fields = {
        k.decode().upper(): v.decode(errors="replace").strip()
        for k, v in re.findall(rb"<(TYPE|FILENAME|DESCRIPTION)>([^\r\n<]*)", head, re.I)
    }
    m = _SGML_TEXT.search(data)
    return (m.group(1) if m else data), fields


def _release_calendar(text: str, quarter_end, warnings: list[str]) -> FiscalCalendar | None:
    """"First quarter fiscal 2024" with its quarter's end date fixes the fiscal calendar."""
    if quarter_end is None:
        return None
    released = release_quarter(text)
    if released is None:
        return press_calendar(text, quarter_end)
    quarter, fiscal_year = released
    cal = calendar_from_focus(quarter_end, fiscal_year, None, f"Q{quarter}", warnings)
    if fiscal_year is None:
        return FiscalCalendar(cal.fye_month, cal.fye_day, 0, year_known=False, weeks_52_53=cal.weeks_52_53)
    return cal


def load_html(filename: str, data: bytes) -> Filing:
    inner, sgml = unwrap_sgml(data)
    root = parse_html(filename, inner)
    filing = Filing(filename=filename, format="html", form=sgml.get("TYPE") or None)
    html_doc.strip_unsafe(root)
    body = next((el for el in root.iter() if html_doc.local(el) == "body"), root)
    content = html_doc.extract(body, title_hint=sgml.get("DESCRIPTION") or "Document")
    filing.sections = content.sections
    filing.tables = content.tables
    text = "\n".join(s.text for s in filing.sections)
    m = _COMPANY.search(text[:5000])
    filing.company = clean_text(m.group(1)) if m else release_company(text[:3000])
    if filing.form is None and re.match(r"\s*exhibit\s+99\.?1\b", text[:200], re.I):
        filing.form = "EX-99.1"
    scale_note = scale_from_text(text[:20000])
    first: list[tuple[Fact, bool]] = []
    for t in filing.tables:
        t_scale = scale_from_text(t.title) or scale_from_text(" ".join(t.columns)) or scale_note or 3
        first.extend(
            (f, bool(STATEMENT_TITLE.search(t.title)))
            for f in facts_from_table(t, filename, scale=t_scale, context=t.title, form=filing.form)
        )
    # The quarter is the income statement's latest three-month column (not a guidance column).
    in_statements = [f for f, st in first if st] or [f for f, _st in first]
    quarter_ends = [f.period_end for f in in_statements if is_quarter(f.period_start, f.period_end)]
    calendar = _release_calendar(text[:5000], max(quarter_ends) if quarter_ends else None, filing.warnings)
    if calendar is not None:
        filing.calendar = calendar_info(calendar, "the release's headline and statement columns")
    facts = []
    # The statements' figures, not those of non-GAAP reconciliations, outlooks or MD&A-like tables;
    # a document without a titled statement keeps all its tables' figures, and says so.
    statements = [t for t in filing.tables if STATEMENT_TITLE.search(t.title)]
    sources = statements or filing.tables
    if not statements and filing.tables and any(len(t.rows) >= 3 for t in filing.tables):
        filing.warnings.append(
            "no financial statement found by its title; figures come from the document's other tables"
        )
    for t in sources:
        if _FORWARD.search(t.title) or _FORWARD.search(" ".join(t.columns)):
            continue  # targets and outlook are not reported figures
        # Press releases print thousands unless they say otherwise (Buckle: "in thousands").
        t_scale = scale_from_text(t.title) or scale_from_text(" ".join(t.columns)) or scale_note or 3
        shares = 0 if re.search(r"except\s+share", t.title, re.I) else t_scale
        facts.extend(
            facts_from_table(
                t, filename, scale=t_scale, shares_scale=shares, context=t.title, calendar=calendar, form=filing.form
            )
        )
    filing.facts = facts
    if facts:
        latest = max(facts, key=lambda f: f.period_end)
        if quarter_ends:
            latest = next((f for f in facts if f.period_end == max(quarter_ends) and f.period_start), latest)
        filing.period_end = latest.period_end
        filing.fiscal_period = latest.source.period
    return filing
