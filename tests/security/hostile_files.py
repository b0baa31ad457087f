"""Hostile uploads, generated in the test (nothing hostile is checked in).

Each builder returns bytes that are small on disk and expensive to parse naively.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
import zlib


def _pdf(objects: list[bytes]) -> bytes:
    """A well-formed PDF from numbered object bodies (1-based), with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _stream(data: bytes, *, flate: bool) -> bytes:
    if flate:
        data = zlib.compress(data, 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _deflated_spaces(total: int) -> bytes:
    """zlib data that inflates to ``total`` spaces, built in chunks (never holds them all)."""
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    parts = [comp.compress(b"BT /F1 12 Tf 72 720 Td (x) Tj ET\n")]
    for _ in range(total // len(chunk)):
        parts.append(comp.compress(chunk))
    parts.append(comp.flush())
    return b"".join(parts)


@functools.cache  # the same bytes every time; compressing 3 GB takes a while on a loaded machine
def pdf_inflation_bomb(inflated_bytes: int = 3 * 2**30) -> bytes:
    """One page whose content stream is ~3 MB on disk and ``inflated_bytes`` when decoded."""
    data = _deflated_spaces(inflated_bytes)
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        content,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def pdf_many_pages(pages: int, text: bytes = b"Revenue 1,234 Net income 567") -> bytes:
    """``pages`` pages sharing one small content stream (a few hundred bytes per page)."""
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        _stream(b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET", flate=False),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for _ in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
                       b"/Resources << /Font << /F1 4 0 R >> >> >>")
    return _pdf(objects)


def xlsx_shared_string_bomb(rows: int = 5000, cols: int = 4, string_bytes: int = 2**20) -> bytes:
    """A workbook whose every cell points at one ``string_bytes`` shared string: a few KB zipped,
    well under any zip-bomb ratio per member, gigabytes of cell text once read."""
    cells = "".join(f'<c r="{chr(65 + c)}{{r}}" t="s"><v>0</v></c>' for c in range(cols))
    sheet_rows = "".join(f'<row r="{r}">' + cells.replace("{r}", str(r)) + "</row>" for r in range(1, rows + 1))
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Income" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"),
        "xl/sharedStrings.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
            "<si><t>" + "A" * string_bytes + "</t></si></sst>"),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            "<sheetData>" + sheet_rows + "</sheetData></worksheet>"),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return out.getvalue()


def companyfacts(n_facts: int, *, concepts: int = 300) -> bytes:
    """A companyfacts JSON with ``n_facts`` distinct facts over ``concepts`` concepts."""
    per = max(1, n_facts // concepts)
    facts: dict = {}
    made = 0
    for c in range(concepts):
        entries = []
        for i in range(per):
            if made >= n_facts:
                break
            year = 1900 + i // 4
            q = i % 4
            entries.append({
                "start": f"{year:04d}-{3 * q + 1:02d}-01", "end": f"{year:04d}-{3 * q + 3:02d}-28",
                "val": 1000 + i, "accn": f"0000320193-{year % 100:02d}-{i:06d}", "fy": year,
                "fp": f"Q{q + 1}", "form": "10-Q", "filed": f"{year:04d}-{3 * q + 3:02d}-28",
            })
            made += 1
        facts[f"Concept{c}"] = {"label": f"Concept {c}", "description": "x", "units": {"USD": entries}}
    doc = {"cik": 320193, "entityName": "Hostile Inc.", "facts": {"us-gaap": facts}}
    return json.dumps(doc).encode()


def pdf_cpu_heavy(pages: int = 1400, ops: int = 4000) -> bytes:
    """Under the page limit and tiny in memory, but seconds of CPU to extract (~4 s here):
    every page shares one content stream of ``ops`` text operators."""
    body = b" ".join(b"(Revenue 1,234) Tj 0 -1 Td" for _ in range(ops))
    return pdf_many_pages(pages, text=b"x) Tj " + body + b" (y")
