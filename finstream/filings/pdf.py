"""PDF filings: text by page with pypdfium2 (fast, C), tables with pdfplumber only where needed.

pdfplumber is ~100x slower per page than pypdfium2's text, so it runs only on pages whose text
looks like a financial statement (a "Year(s) Ended"/"Months Ended" heading, a revenue line and
many numbers), at most MAX_TABLE_PAGES of them.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence

from finstream.filings.limits import TextBudget, limits
from finstream.filings.model import Filing, FilingError, Section, Table
from finstream.filings.numbers import scale_from_text
from finstream.filings.pdf_statements import (
    Statement,
    cover_period_end,
    find_statements,
    fiscal_year_named,
    release_company,
    release_quarter,
)
from finstream.filings.periods import FiscalCalendar, calendar_from_focus, calendar_info, parse_date
from finstream.filings.table_facts import facts_from_table
from finstream.filings.tables import build_rows, rows_from_plain

MAX_TABLE_PAGES = 12
MAX_TABLE_PAGES_BESIDE_STATEMENTS = 6
_STATEMENT = re.compile(r"(Years?|Months|Weeks|Quarters?)\s+Ended", re.I)
_REVENUE = re.compile(r"\b(Revenues?|Net sales|Total net revenue)\b", re.I)
_NUM = re.compile(r"\d[\d,]{2,}")
_BALANCE = re.compile(r"\bTotal assets\b", re.I)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")


def open_pdf(filename: str, data: bytes):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc).lower()
        if "password" in msg:
            raise FilingError(filename, "encrypted PDF, cannot read text") from None
        raise FilingError(filename, f"corrupt or truncated PDF ({exc})") from None


# PDFium is not thread-safe, and uploads are parsed in worker threads (ingest_async): one
# document at a time goes through it. pdfplumber (pure Python pdfminer) needs no lock.
_PDFIUM_LOCK = threading.Lock()


def page_texts(filename: str, data: bytes) -> list[str]:
    """Text of every page, in order (the fast path benchmarked against bare pypdfium2)."""
    with _PDFIUM_LOCK:
        return _page_texts(filename, data)


def _page_texts(filename: str, data: bytes) -> list[str]:
    pdf = open_pdf(filename, data)
    try:
        max_pages = limits().max_pdf_pages
        if len(pdf) > max_pages:
            raise FilingError(filename, f"PDF has {len(pdf):,} pages, over the limit of {max_pages:,} "
                              "(FINSTREAM_MAX_PDF_PAGES); refused")
        budget = TextBudget(filename, "PDF text")
        texts = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            budget.add(len(texts[-1]))
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


def statement_pages(texts: list[str]) -> list[int]:
    """0-based pages worth running the table extractor on: results of operations first, then
    balance sheets, in page order, at most MAX_TABLE_PAGES."""
    income, balance = [], []
    for i, t in enumerate(texts):
        if len(_NUM.findall(t)) < 30:
            continue
        if _STATEMENT.search(t) and _REVENUE.search(t):
            income.append(i)
        elif _BALANCE.search(t):
            balance.append(i)
    return sorted(income[: MAX_TABLE_PAGES - 3] + balance[:3])


def _caption(page_text: str, first_label: str) -> str | None:
    """The sentence or heading printed just above a table ("...statements of operations (in millions):")."""
    pos = page_text.find(first_label[:30]) if first_label else -1
    if pos <= 0:
        return None
    lines = [ln.strip() for ln in page_text[max(0, pos - 600) : pos].splitlines() if ln.strip()]
    for line in reversed(lines):
        if _STATEMENT.search(line) and len(line) < 60 or _YEAR.fullmatch(line.split()[0]) or len(line) < 4:
            continue  # the column headings, not the caption
        return line[:200]
    return None


def _headings(page_text: str, first_label: str, ncols: int) -> list[str]:
    """Column headings for a table pdfplumber found without them: the years printed above it."""
    pos = page_text.find(first_label[:30]) if first_label else -1
    window = page_text[max(0, pos - 400) : pos] if pos > 0 else page_text[:400]
    years = _YEAR.findall(window)
    ended = _STATEMENT.search(window)
    prefix = ""
    if ended:
        tail = window[ended.start() : ended.start() + 60]
        prefix = re.split(r"(?:19|20)\d\d", tail)[0].strip().rstrip(",")
    if len(years) >= ncols:
        return [f"{prefix}, {y}".strip(", ") for y in years[-ncols:]]
    return [""] * ncols


def _metadata(filing: Filing, first_pages: str) -> None:
    """Company, form and period from the first pages: a 10-K/10-Q cover or an earnings release."""
    m = re.search(r"\bFORM\s+(10-K|10-Q|8-K|20-F|40-F)\b", first_pages, re.I)
    filing.form = m.group(1).upper() if m else None
    filing.period_end = cover_period_end(first_pages)
    if filing.form is None and _RELEASE_WORDS.search(first_pages[:3000]):
        filing.form = "EX-99.1" if re.search(r"exhibit\s+99\.?1", first_pages[:3000], re.I) else "earnings release"
    m = re.search(r"\n[ \t_]*([A-Za-z][^\n]{1,80}?)[ \t_]*\n[^\n]*\(exact name of registrant", first_pages, re.I)
    # The registrant's name: above "(Exact name of registrant…)", or below the commission file number.
    m = m or re.search(r"commission\s+file\s+(?:number|no\.?)[^\n]*\n[ \t_]*([A-Za-z0-9][^\n]{1,80}?)\s*\n", first_pages, re.I)
    if m:
        filing.company = " ".join(m.group(1).split())
    else:
        m = re.search(r"\n\s*([A-Z0-9][A-Z0-9&.,' \-]{1,60}(?:INC|CORP|CORPORATION|LTD|PLC|CO|COMPANY)\.?)\s*\n", first_pages)
        filing.company = m.group(1).strip() if m else None
    if filing.company is None or not re.search(r"[A-Za-z]", filing.company):
        filing.company = release_company(first_pages[:2000])


_RELEASE_WORDS = re.compile(r"\b(reports|announces)\b[^\n]{0,80}\bresults\b|\bearnings\s+release\b", re.I)


_ITEM_LINE = re.compile(r"^\s*(?:PART\s+[IV]+[,.\s]*)?(ITEM\s+\d{1,2}[A-C]?\.?\s+[^\r\n]{3,150}?)\s*\r?$", re.I | re.M)


def _page_sections(texts: list[str]) -> list[Section]:
    """One section per page, titled with the 10-K/10-Q Item the page belongs to when one is known."""
    sections = []
    item = None
    for i, text in enumerate(texts):
        headings = _ITEM_LINE.findall(text)
        if 0 < len(headings) < 4:  # four or more on one page is the table of contents
            item = " ".join(headings[-1].split())
        if text.strip():
            title = f"Page {i + 1}" + (f" · {item}" if item else "")
            sections.append(Section(title=title, text=text.strip(), page=i + 1))
    return sections


def load_pdf(filename: str, data: bytes) -> Filing:
    texts = page_texts(filename, data)
    if not texts:
        raise FilingError(filename, "PDF has no pages")
    if not any(t.strip() for t in texts):
        raise FilingError(filename, "PDF has no text layer (scanned images?); OCR is not supported")
    filing = Filing(filename=filename, format="pdf")
    filing.sections = _page_sections(texts)
    _metadata(filing, "\n".join(texts[:3]))
    annual = filing.form in ("10-K", "20-F", "40-F")
    statements = find_statements(texts, filing.period_end if annual else None, filing.warnings)
    # Pages read as statements from their text need no second, slower reading by pdfplumber.
    done = {st.page - 1 for st in statements}
    pages = [i for i in statement_pages(texts) if i not in done]
    if statements:  # the other tables (MD&A, segments) are for reading, not for figures: fewer of them
        pages = pages[:MAX_TABLE_PAGES_BESIDE_STATEMENTS]
    if pages:
        import pdfplumber  # slow to import; only needed when a page has statement tables

        try:
            # Opening only the chosen pages and closing each after use keeps pdfminer's layout
            # objects from piling up (peak memory 86 MB -> 12 MB on the 307-page Uber 10-K).
            with pdfplumber.open(io.BytesIO(data), pages=[i + 1 for i in pages]) as pdf:
                for i, page in zip(pages, pdf.pages, strict=True):
                    for raw in page.extract_tables():
                        _add_table(filing, raw, texts[i], i + 1)
                    page.close()
        except Exception as exc:  # pdfminer raises many kinds on odd content; text is still good
            filing.warnings.append(f"table extraction stopped: {type(exc).__name__}")
    add_statement_facts(filing, statements, "\n".join(texts[:3]))
    return filing


def _add_table(filing: Filing, raw: Sequence[Sequence[object]], page_text: str, page: int) -> None:
    columns, rows = build_rows(rows_from_plain(raw))
    if len(columns) < 2 or len(rows) < 3:
        return
    first = next((str(r[0]) for r in rows if r[0]), "")
    if all(c.startswith("Column ") for c in columns[1:]):
        heads = _headings(page_text, first, len(columns) - 1)
        columns = [columns[0]] + [h or c for h, c in zip(heads, columns[1:], strict=False)]
    number = sum(1 for t in filing.tables if t.page == page) + 1
    caption = _caption(page_text, first)
    title = f"Page {page} table {number}" + (f": {caption}" if caption else "")
    section = next((s.title for s in filing.sections if s.page == page), f"Page {page}")
    table = Table(title=title, columns=columns, rows=rows, page=page, section=section)
    scale = scale_from_text(page_text) or 0
    table.unit_note = {6: "in millions", 3: "in thousands", 9: "in billions"}.get(scale)
    filing.tables.append(table)
    filing.facts.extend(
        facts_from_table(table, filing.filename, scale=scale, context=page_text[:0], form=filing.form)
    )


def add_statement_facts(filing: Filing, statements: list[Statement], first_pages: str) -> None:
    """Facts from the primary statements, which replace those read from other tables (MD&A,
    selected data); labelled with the calendar the cover or the release states."""
    if not statements:
        if filing.facts:
            filing.warnings.append(
                "no primary financial statement (income statement, balance sheet, cash flows) found by its "
                "title; figures come from other tables (MD&A or selected data) and may be partial"
            )
        return
    calendar = _calendar(filing, statements, first_pages)
    facts = []
    for st in statements:
        table = Table(
            title=f"{st.title} (page {st.page})", columns=["Item", *st.columns], rows=st.rows, page=st.page,
            section=next((s.title for s in filing.sections if s.page == st.page), f"Page {st.page}"),
            unit_note={6: "in millions", 3: "in thousands", 9: "in billions"}.get(st.scale),
        )
        filing.tables.append(table)
        facts.extend(facts_from_table(
            table, filing.filename, scale=st.scale, shares_scale=st.shares_scale, context=st.header,
            calendar=calendar, form=filing.form, currency=st.currency,
        ))
        if not st.scale_known:
            filing.warnings.append(f"page {st.page}: {st.title!r} states no scale; its values are kept as printed")
        if st.skipped_rows > 3:
            filing.warnings.append(
                f"page {st.page}: {st.skipped_rows} lines of {st.title!r} could not be split into its "
                f"{len(st.columns)} columns and were left out"
            )
    filing.facts = facts
    if calendar is not None:
        filing.calendar = calendar_info(calendar, "cover page and statement headings")
    if not any(st.kind == "income" for st in statements):
        filing.warnings.append("no income statement found by its title; revenue and net income may be missing")


def _calendar(filing: Filing, statements: list[Statement], first_pages: str) -> FiscalCalendar | None:
    """The fiscal calendar a PDF states: a 10-K's "fiscal year ended", a release's "first quarter
    fiscal 2024", or, for a 10-Q, its own columns (the longest year-to-date column starts the
    fiscal year; the balance sheet's comparative date is the last year end)."""
    ends = [e for st in statements for h in st.columns if (e := parse_date(h))]
    income = [e for st in statements if st.kind == "income" for h in st.columns if (e := parse_date(h))]
    latest = max(income or ends) if (income or ends) else filing.period_end
    if latest is None:
        return None
    if filing.form in ("10-K", "20-F", "40-F"):
        fiscal_year = fiscal_year_named(statements, filing.period_end or latest)
        cal = calendar_from_focus(filing.period_end or latest, fiscal_year, None, "FY", filing.warnings)
        filing.period_end = filing.period_end or latest
    else:
        released = release_quarter(first_pages[:3000])
        quarter, fiscal_year = released if released else (_quarter_from_columns(statements, latest), None)
        prior_end = _prior_year_end(statements, latest)
        if quarter is not None:
            cal = calendar_from_focus(latest, fiscal_year, None, f"Q{quarter}", filing.warnings)
        elif prior_end is not None:
            cal = calendar_from_focus(latest, fiscal_year, f"--{prior_end.month:02d}-{prior_end.day:02d}", None)
        else:
            filing.warnings.append(
                "the document does not say which fiscal period it covers; labels assume a fiscal year "
                f"ending {latest:%B %-d}"
            )
            cal = calendar_from_focus(latest, None, None, "FY")
        if fiscal_year is None and filing.form != "10-Q":
            # A release that does not number its fiscal year: name periods by their end dates.
            cal = FiscalCalendar(cal.fye_month, cal.fye_day, 0, year_known=False, weeks_52_53=cal.weeks_52_53)
        # The period is the income statement's latest column, not a date in an outlook.
        filing.period_end = latest
    _, _, filing.fiscal_period = cal.label(None, filing.period_end)
    return cal


def _quarter_from_columns(statements: list[Statement], latest) -> int | None:
    """Q2 when the income statement has a six-month column ending with its latest quarter, Q3 for
    nine months; None when only three-month columns say nothing of the year."""
    from finstream.filings.periods import duration_months

    months = [
        duration_months(h) or 0
        for st in statements if st.kind == "income" for h in st.columns if parse_date(h) == latest
    ]
    longest = max(months, default=0)
    return {6: 2, 9: 3}.get(longest)


def _prior_year_end(statements: list[Statement], latest):
    """A quarterly balance sheet compares the quarter end with the last fiscal year end."""
    for st in statements:
        if st.kind != "balance":
            continue
        dates = [d for h in st.columns if (d := parse_date(h)) and 60 <= (latest - d).days <= 300]
        if dates:
            return max(dates)
    return None
