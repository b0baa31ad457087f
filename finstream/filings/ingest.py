"""One entry point for every upload: detect the format from the bytes, run its loader.

The extension is only a hint: a PDF named .csv is read as a PDF, and a binary blob named .txt is
refused. Every failure a user can cause is a FilingError naming the file and the reason.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from finstream.filings.model import Filing, FilingError, Section

DEFAULT_MAX_BYTES = 50 * 2**20


def detect_format(filename: str, data: bytes) -> str:
    """pdf, xlsx, ixbrl, html, xbrl, companyfacts, csv or text (or FilingError)."""
    head = data[:4096]
    if data[:1024].find(b"%PDF-") != -1:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FilingError(filename, "legacy .xls or password-protected Office file; save it as .xlsx or CSV")
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf")):
        raise FilingError(filename, "compressed archive; upload the filing itself")
    text = _decode_head(filename, head)
    stripped = text.lstrip("\ufeff \t\r\n")
    low = stripped[:4096].lower()
    if stripped.startswith(("{", "[")):
        return "companyfacts"
    if stripped.startswith("<"):
        if "inlinexbrl" in low or "<ix:header" in data[:2_000_000].decode("latin-1").lower():
            return "ixbrl"
        if re.search(r"<(\w+:)?xbrl[\s>]", low) and "<html" not in low:
            return "xbrl"
        return "html"
    name = filename.lower()
    if name.endswith((".csv", ".tsv")) or _looks_like_csv(stripped, complete=len(data) <= len(head)):
        return "csv"
    return "text"


def _decode_head(filename: str, head: bytes) -> str:
    if not head.strip():
        raise FilingError(filename, "empty file")
    sample = head[:2048]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if b"\x00" in sample or controls > len(sample) * 0.05:
        raise FilingError(filename, "binary data in no supported format (PDF, HTML, XBRL, JSON, CSV, XLSX, text)")
    try:
        return head.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut at the end of the sample
            return head[: exc.start].decode("utf-8")
        return head.decode("latin-1")


def _looks_like_csv(text: str, *, complete: bool) -> bool:
    import csv

    lines = [ln for ln in text.splitlines() if ln.strip()][:20]
    if not complete:
        lines = lines[:-1]  # the sample may end in the middle of a line
    if len(lines) < 2:
        return False
    for delimiter in (",", ";", "\t"):
        counts = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        if len(counts) == 1 and min(counts) >= 2:
            return True
    return False


def ingest(filename: str, data: bytes, *, max_bytes: int | None = None) -> Filing:
    """Parse one uploaded file. Raises FilingError (file name + reason) for anything unreadable."""
    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    if len(data) > limit:
        raise FilingError(filename, f"file is {len(data) / 2**20:.1f} MB, over the {limit / 2**20:.0f} MB limit")
    if not data or not data.strip():
        raise FilingError(filename, "empty file")
    kind = detect_format(filename, data)
    try:
        filing = _load(kind, filename, data)
    except FilingError:
        raise
    except RecursionError:
        raise FilingError(filename, f"{kind} nested too deeply to read") from None
    except MemoryError:
        from finstream.filings.limits import limits

        raise FilingError(filename, f"{kind} needs more memory than the parser's limit of "
                          f"{limits().memory_mb} MB (FINSTREAM_PARSE_MEMORY_MB); refused") from None
    except Exception as exc:  # a loader bug must not take the conversation down with it
        raise FilingError(filename, f"could not read {kind} ({type(exc).__name__}: {exc})") from exc
    if not filing.sections and not filing.tables and not filing.facts:
        raise FilingError(filename, f"no text, tables or facts found in this {kind} file")
    return filing


def _load(kind: str, filename: str, data: bytes) -> Filing:
    if kind == "pdf":
        from finstream.filings.pdf import load_pdf

        return load_pdf(filename, data)
    if kind == "xlsx":
        from finstream.filings.spreadsheet import load_xlsx

        return load_xlsx(filename, data)
    if kind == "companyfacts":
        from finstream.filings.companyfacts import load_companyfacts

        return load_companyfacts(filename, data)
    if kind == "ixbrl":
        from finstream.filings.ixbrl import load_ixbrl

        return load_ixbrl(filename, data)
    if kind == "xbrl":
        from finstream.filings.safe_xml import parse_xml
        from finstream.filings.xbrl_instance import load_xbrl_instance

        return load_xbrl_instance(filename, parse_xml(filename, data))
    if kind == "html":
        from finstream.filings.press import load_html

        return load_html(filename, data)
    if kind == "csv":
        from finstream.filings.spreadsheet import load_csv

        return load_csv(filename, data)
    return load_text(filename, data)


def load_text(filename: str, data: bytes) -> Filing:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    text = text.replace("\r\n", "\n")
    sections: list[Section] = []
    title = "Text"
    lines: list[str] = []
    for line in text.split("\n"):
        m = re.match(r"^\s*(?:part\s+[ivx]+[,.\s]+)?(item\s+\d{1,2}[a-c]?\.?.{0,120})$", line, re.I)
        if m or sum(len(x) for x in lines) > 4000:
            if lines and "".join(lines).strip():
                sections.append(Section(title=title, text="\n".join(lines).strip()))
            title = m.group(1).strip() if m else f"{title.split(' (cont')[0]} (continued)"
            lines = []
        lines.append(line)
    if "".join(lines).strip():
        sections.append(Section(title=title, text="\n".join(lines).strip()))
    filing = Filing(filename=filename, format="text", sections=sections)
    m = re.search(r"\bFORM\s+(10-K|10-Q|8-K)\b", text[:5000], re.I)
    filing.form = m.group(1).upper() if m else None
    return filing


async def ingest_async(filename: str, data: bytes, *, max_bytes: int | None = None) -> Filing:
    """ingest() in a worker thread: parsing a large filing never blocks the event loop."""
    return await asyncio.to_thread(ingest, filename, data, max_bytes=max_bytes)


def ingest_path(path: str | Path, *, max_bytes: int | None = None) -> Filing:
    """Read and ingest a local file; an unreadable file is a FilingError like any other."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FilingError(p.name, f"cannot read file ({exc.strerror or exc})") from None
    return ingest(p.name, data, max_bytes=max_bytes)
