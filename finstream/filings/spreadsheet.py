"""CSV and Excel exports: every sheet a table, its line items facts.

An XLSX file is a zip archive: its members' uncompressed sizes are checked against a budget
*before* openpyxl opens it, so a zip bomb renamed .xlsx is refused instead of filling memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence

from finstream.filings.limits import TextBudget, limits
from finstream.filings.model import Filing, FilingError, Section, Table
from finstream.filings.numbers import clean_text, money_scale_from_header, parse_number
from finstream.filings.periods import FiscalCalendar, calendar_from_focus, calendar_info, parse_date
from finstream.filings.table_facts import facts_from_table
from finstream.filings.tables import Cell, build_rows

MAX_UNCOMPRESSED = 200 * 2**20  # bytes, all members together
MAX_RATIO = 100  # uncompressed / compressed for any large member
MAX_SHEETS = 200
MAX_ROWS = 5000


def check_zip(filename: str, data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise FilingError(filename, "corrupt XLSX (not a readable zip archive)") from None
    total = 0
    with archive:
        for info in archive.infolist():
            total += info.file_size
            if info.file_size > 10 * 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise FilingError(
                    filename,
                    f"XLSX member {info.filename} expands {info.file_size // max(info.compress_size, 1)}x "
                    "(a zip bomb?); refused",
                )
        if total > MAX_UNCOMPRESSED:
            raise FilingError(filename, f"XLSX expands to {total // 2**20} MB, over the {MAX_UNCOMPRESSED // 2**20} MB limit")
        if "xl/workbook.xml" not in archive.namelist():
            raise FilingError(filename, "zip archive is not an Excel workbook (no xl/workbook.xml)")


def _grid_rows(rows: Sequence[Sequence[object]]) -> tuple[str, list[list[Cell]]]:
    """Cells with header gaps filled to the right, as merged headings ("3 Months Ended") span."""
    title = clean_text(rows[0][0]) if rows and rows[0] else ""
    grid: list[list[Cell]] = []
    in_header = True
    for r in rows:
        texts = [clean_text(v) if not isinstance(v, int | float) else v for v in r]
        numeric = any(isinstance(v, int | float) or parse_number(v) is not None for v in texts[1:])
        if numeric and texts and texts[0]:
            in_header = False
        cells: list[Cell] = []
        last = ""
        for i, v in enumerate(texts):
            text = str(v) if isinstance(v, int | float) else v
            if in_header and i > 0 and not text and last:
                text = last
            if in_header and i > 0:
                last = text
            cells.append(Cell(i, i + 1, text))
        grid.append(cells)
    return title, grid


def _table(rows: Sequence[Sequence[object]], name: str) -> tuple[Table, int, int]:
    title, grid = _grid_rows(rows)
    columns, data = build_rows(grid)
    # The scale may be stated in the title cell or anywhere in the heading rows above the numbers.
    heading = " ".join(clean_text(v) for r in rows[:3] for v in r if isinstance(v, str))
    scale = money_scale_from_header(title) or money_scale_from_header(heading)
    low = heading.lower()
    shares_scale = 3 if "shares in thousands" in low else 6 if "shares in millions" in low else 0
    table = Table(title=title or name, columns=columns, rows=data, section=name,
                  unit_note=(title if money_scale_from_header(title) else heading[:200]) if scale else None)
    return table, scale, shares_scale


def _finish(filing: Filing, tables: list[tuple[Table, int, int]], calendar: FiscalCalendar | None = None) -> Filing:
    for table, scale, shares in tables:
        filing.tables.append(table)
        if (table.section or "").lower().startswith("cover"):
            continue  # the cover's numbers are zip codes and share counts, not line items
        filing.facts.extend(
            facts_from_table(
                table, filing.filename, scale=scale, shares_scale=shares, table_ref=table.title,
                calendar=calendar, form=filing.form,
            )
        )
    for table in filing.tables:
        text = "\n".join(" ".join("" if v is None else str(v) for v in r) for r in table.rows)
        filing.sections.append(Section(title=table.section or table.title, text=f"{table.title}\n{text}"))
    if filing.facts and filing.period_end is None:
        filing.period_end = max(f.period_end for f in filing.facts)
    return filing


def load_xlsx(filename: str, data: bytes) -> Filing:
    check_zip(filename, data)
    import openpyxl  # imported here: it is slow to import and only XLSX needs it

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on broken workbooks
        raise FilingError(filename, f"unreadable Excel workbook ({type(exc).__name__})") from None
    filing = Filing(filename=filename, format="xlsx")
    tables = []
    calendar = None
    budget = _CellBudget(filename)
    try:
        for ws in wb.worksheets[:MAX_SHEETS]:
            rows = [budget.row(r) for _, r in zip(range(MAX_ROWS), ws.iter_rows(values_only=True), strict=False)]
            rows = [r for r in rows if any(v not in (None, "") for v in r)]
            if rows:
                tables.append(_table(rows, ws.title))
            if ws.title.lower().startswith("cover"):
                calendar = _cover(filing, rows)
    finally:
        wb.close()
    return _finish(filing, tables, calendar)


class _CellBudget:
    """Bounds the cells and the cell text read from one workbook. Many cells may point at one
    shared string: a 6 KB file can spell out gigabytes of text, so each reference counts."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.max_cells = limits().max_xlsx_cells
        self.cells = 0
        self.text = TextBudget(filename, "XLSX cell text")

    def row(self, values: tuple) -> list[object]:
        self.cells += len(values)
        if self.cells > self.max_cells:
            raise FilingError(self.filename, f"XLSX has more than {self.max_cells:,} cells "
                              "(FINSTREAM_MAX_XLSX_CELLS); refused")
        self.text.add(sum(len(v) for v in values if isinstance(v, str)))
        return list(values)


def _cover(filing: Filing, rows: list[list[object]]) -> FiscalCalendar:
    """The SEC workbook's cover sheet holds the dei facts as label/value rows."""
    values = {clean_text(r[0]): clean_text(r[1]) for r in rows if len(r) > 1 and r[0] and r[1]}
    filing.company = values.get("Entity Registrant Name") or filing.company
    filing.cik = (values.get("Entity Central Index Key") or "").lstrip("0") or filing.cik
    filing.ticker = values.get("Trading Symbol") or filing.ticker
    filing.form = values.get("Document Type") or filing.form
    fy, fp = values.get("Document Fiscal Year Focus"), values.get("Document Fiscal Period Focus")
    if fy and fp:
        filing.fiscal_period = f"FY{fy}" if fp == "FY" else f"{fp} FY{fy}"
    filing.period_end = parse_date(values.get("Document Period End Date"))
    cal = calendar_from_focus(
        filing.period_end, int(fy) if fy and fy.isdigit() else None, values.get("Current Fiscal Year End Date"),
        fp, filing.warnings,
    )
    filing.calendar = calendar_info(cal, "cover sheet (dei)")
    return cal


def load_csv(filename: str, data: bytes) -> Filing:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [r for _, r in zip(range(MAX_ROWS * 10), csv.reader(io.StringIO(text), dialect), strict=False)]
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise FilingError(filename, "CSV has no rows")
    filing = Filing(filename=filename, format="csv")
    table, scale, shares = _table(rows, filename)
    if not scale:
        filing.warnings.append("no scale stated (e.g. '$ in millions'); values are kept as printed")
    filing = _finish(filing, [(table, scale, shares)])
    return filing
