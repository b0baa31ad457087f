"""Every kind of bad upload: a FilingError naming the file and the reason, nothing else harmed."""

from __future__ import annotations

import asyncio
import io
import threading
import zipfile

import pypdfium2 as pdfium
import pytest

from finstream.filings import ingest as ingest_module
from finstream.filings.ingest import ingest, ingest_async
from finstream.filings.model import FilingError


def _error(name: str, data: bytes, **kw) -> str:
    with pytest.raises(FilingError) as info:
        ingest(name, data, **kw)
    assert info.value.filename == name
    message = str(info.value)
    assert message.startswith(f"{name}: ") and info.value.reason in message
    return info.value.reason


def _blank_pdf() -> bytes:
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(612, 792)
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("data", [b"", b"   \n\t  "])
def test_empty_file(data):
    assert _error("empty.csv", data) == "empty file"


def test_truncated_pdf(filings_dir):
    data = (filings_dir / "uber_2021.pdf").read_bytes()
    assert "corrupt or truncated PDF" in _error("uber_2021.pdf", data[: len(data) // 3])


def test_corrupt_pdf():
    assert "corrupt or truncated PDF" in _error("broken.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40)


def test_encrypted_pdf():
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(_blank_pdf()))
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    assert _error("uber_2021.pdf", buf.getvalue()) == "encrypted PDF, cannot read text"


def test_pdf_without_text_layer_says_so():
    assert "no text layer" in _error("scan.pdf", _blank_pdf())


def test_zip_bomb_disguised_as_xlsx_is_refused_before_openpyxl():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (16 * 2**20))  # 16 MB of zeros, 16 KB zipped
    data = buf.getvalue()
    assert len(data) < 100_000
    assert "zip bomb" in _error("report.xlsx", data)


def test_xlsx_expanding_past_the_total_budget_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        # Many members each under the per-member ratio check, together past the 200 MB budget.
        chunk = b"\0" * (9 * 2**20)
        for i in range(24):
            z.writestr(f"xl/worksheets/sheet{i}.xml", chunk)
    assert "over the 200 MB limit" in _error("big.xlsx", buf.getvalue())


def test_zip_that_is_not_a_workbook():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "hello")
    assert "not an Excel workbook" in _error("notes.xlsx", buf.getvalue())


def test_xml_entity_expansion_is_refused():
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
            for i in range(1, 10)
        )
        + b']>\n<xbrl xmlns="http://www.xbrl.org/2003/instance">&lol9;</xbrl>'
    )
    assert "entity-expansion" in _error("instance.xml", laughs)


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
        '<xbrl xmlns="http://www.xbrl.org/2003/instance">&e;</xbrl>'
    ).encode()
    assert "entity-expansion" in _error("xxe.xml", xxe)


def test_html_scripts_are_stripped_never_carried_into_text():
    html = b"""<html><head><script>alert('head')</script><style>p{color:red}</style></head><body>
    <p>Acme Corp. reported third quarter results.</p>
    <script type="text/javascript">document.write('EVIL'); fetch('http://x')</script>
    <p onclick="steal()">Net sales rose.</p><noscript>NOSCRIPT</noscript>
    <iframe src="http://example.com">IFRAME</iframe>
    <table><tr><td></td><td>Three Months Ended September 30, 2024</td></tr>
    <tr><td>Net sales</td><td>$ 1,234</td></tr><tr><td>Net income</td><td>(56)</td></tr></table>
    </body></html>"""
    f = ingest("release.html", html)
    text = " ".join(s.text for s in f.sections) + " ".join(str(r) for t in f.tables for r in t.rows)
    for bad in ("alert", "EVIL", "fetch", "color:red", "NOSCRIPT", "IFRAME", "steal"):
        assert bad not in text
    assert "Net sales rose." in text
    assert any(x.concept == "Net income" and x.value == -56_000 for x in f.facts)


def test_file_over_the_size_limit():
    reason = _error("big.csv", b"a,b\n1,2\n" * 1000, max_bytes=1000)
    assert "over the" in reason and "limit" in reason


def test_wrong_extension_is_detected_by_bytes():
    # A PDF named .csv is read as a PDF (and this one, having no text, says so).
    assert "PDF has no text layer" in _error("uber_2021.csv", _blank_pdf())


def test_csv_named_pdf_is_read_as_csv():
    f = ingest("numbers.pdf", b"Item,Dec. 31, 2024\nRevenue,100\n".replace(b"Dec. 31, 2024", b'"Dec. 31, 2024"'))
    assert f.format == "csv" and f.facts[0].value == 100


@pytest.mark.parametrize("blob", [bytes(range(256)) * 64, b"\x00\x01\x02binary" * 500, b"\x89PNG\r\n\x1a\n" + b"\0" * 100])
def test_binary_blob(blob):
    assert "binary data" in _error("data.txt", blob)


def test_malformed_companyfacts_json():
    assert "malformed JSON" in _error("facts.json", b'{"facts": {')
    assert "not an SEC companyfacts" in _error("other.json", b'{"hello": 1}')


def test_malformed_xbrl_xml():
    assert "malformed XML" in _error("inst.xml", b'<xbrl xmlns="http://www.xbrl.org/2003/instance"><a></xbrl>')


def test_one_bad_file_leaves_the_others_intact(filings_dir):
    good = ingest("apple_consolidated.csv", (filings_dir / "apple_consolidated.csv").read_bytes())
    loaded = [good]
    for name, data in [("empty.pdf", b""), ("bad.pdf", b"%PDF-1.4 garbage")]:
        try:
            loaded.append(ingest(name, data))
        except FilingError:
            pass
    assert loaded == [good] and len(good.facts) == 57


async def test_ingest_async_parses_in_a_worker_thread(filings_dir, monkeypatch):
    seen: list[int] = []
    original = ingest_module.ingest

    def spy(*args, **kwargs):
        seen.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "ingest", spy)
    data = (filings_dir / "aapl-20250329_htm.xml").read_bytes()
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    tick_task = asyncio.create_task(ticker())
    filing = await ingest_async("aapl-20250329_htm.xml", data)
    tick_task.cancel()
    assert filing.form == "10-Q"
    assert seen and seen[0] != threading.get_ident()
    assert ticks > 1  # the loop kept running while the file was parsed
    with pytest.raises(FilingError):
        await ingest_async("empty.txt", b"")


def test_malformed_ixbrl_still_yields_its_facts(filings_dir):
    data = (filings_dir / "aapl-20250329.htm").read_bytes()
    broken = data.replace(b"</body>", b"<p>unclosed <b>bold</p></body>", 1)
    f = ingest("aapl-20250329.htm", broken)
    assert f.format == "ixbrl" and f.fiscal_period == "Q2 FY2025" and len(f.facts) > 500
    assert any("not well-formed" in w for w in f.warnings)


def test_xlsx_export_takes_its_scale_from_the_header():
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Income Statement"
    ws.append(["INCOME STATEMENT - USD ($) $ in Thousands", "12 Months Ended", None])
    ws.append([None, "Dec. 31, 2024", "Dec. 31, 2023"])
    ws.append(["Revenue", 1500, 1200])
    ws.append(["Net income (loss)", "(25)", "—"])
    buf = io.BytesIO()
    wb.save(buf)
    f = ingest("export.xlsx", buf.getvalue())
    values = {(x.concept, x.period_end.year): x.value for x in f.facts}
    assert values[("Revenue", 2024)] == 1_500_000 and values[("Net income (loss)", 2024)] == -25_000
    assert values[("Net income (loss)", 2023)] == 0
    assert all(x.source.table and x.source.period.startswith("FY") for x in f.facts)


async def test_concurrent_uploads_parse_side_by_side(filings_dir):
    # PDFium is not thread-safe; several uploads at once must still each succeed.
    pdf = _blank_pdf()
    xml = (filings_dir / "aapl-20250329_htm.xml").read_bytes()
    results = await asyncio.gather(
        *[ingest_async(f"scan{i}.pdf", pdf) for i in range(4)],
        ingest_async("aapl-20250329_htm.xml", xml),
        return_exceptions=True,
    )
    assert all(isinstance(r, FilingError) and "no text layer" in str(r) for r in results[:4])
    assert results[4].form == "10-Q"
