"""Downloads: tables as CSV and XLSX, charts as standalone HTML, a conversation as Markdown.

The functions are pure (data in, bytes out) so the pages can hand them to ``st.download_button``
as deferred callables: nothing is built until the user clicks.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from finstream.artifacts import Artifact
from finstream.formatting import format_value
from finstream.ui import verification


def xlsx_format(fmt: str, decimals: int) -> str | None:
    """The Excel number format of a column: as many decimals as its numbers need."""
    places = "." + "0" * decimals if decimals else ""
    return {
        "currency": f"#,##0{places};(#,##0{places})",
        "number": f"#,##0{places}",
        "integer": "#,##0",
        "percent": f'0{places}"%"',  # the table tool's percent cells already hold 12.5 for 12.5%
    }.get(fmt)


def decimals_of(frame: pd.DataFrame, name: str) -> int:
    from finstream.formatting import column_decimals

    return column_decimals(list(frame[name]), most=2)


def safe_filename(title: str, suffix: str, kind: str = "") -> str:
    """'Apple Inc. · Revenue / FY2024', 'chart' -> 'apple-inc-revenue-fy2024-chart.html'."""
    stem = re.sub(r"[^a-z0-9]+", "-", (title or "").lower()).strip("-")[:80].strip("-") or "finstream"
    if kind and not stem.endswith(kind):
        stem = f"{stem}-{kind}"
    return f"{stem}.{suffix}"


def unique_names(names: Iterable[str]) -> list[str]:
    """Column names made unique, so a frame (and Arrow) accepts them."""
    seen: dict[str, int] = {}
    out = []
    for raw in names:
        name = str(raw) if str(raw).strip() else "column"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


def table_frame(data: dict[str, Any]) -> pd.DataFrame:
    """The table artifact as a DataFrame: numeric columns coerced to numbers (blanks for text)."""
    columns = data.get("columns") or []
    names = unique_names(c.get("name", "") for c in columns)
    rows = [list(r) + [None] * (len(names) - len(r)) for r in data.get("rows") or []]
    frame = pd.DataFrame([r[: len(names)] for r in rows], columns=names, dtype=object)
    for name, column in zip(names, columns, strict=True):
        if column.get("format", "text") != "text":
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
        else:
            frame[name] = frame[name].map(text_cell)
    return frame


def text_cell(value: Any) -> str:
    """A text cell as shown: blanks for missing values (never 'nan' or 'None'), whole numbers
    without a '.0'."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    return str(value)


def cell_text(value: Any, fmt: str, decimals: int) -> str:
    """A number as the table shows it in Markdown exports: 26,974 not 26,974.00; blank not nan."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if fmt == "text":
        return text_cell(value)
    if fmt == "percent":
        return f"{float(value):,.{decimals}f}%"
    if fmt == "integer":
        return f"{float(value):,.0f}"
    text = f"{abs(float(value)):,.{decimals}f}"
    if fmt == "currency":
        return f"({text})" if float(value) < 0 else text
    return ("-" if float(value) < 0 else "") + text


# OWASP "CSV injection": a cell starting with one of these is a formula to a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading ``'`` (shown as text).
    Numbers, and text that is just a number ("-12.5", "+3%"), stay as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _neutral_frame(data: dict[str, Any]) -> pd.DataFrame:
    frame = table_frame(data)
    frame.columns = [neutralise(c) for c in frame.columns]
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].map(neutralise)
    return frame


def table_csv(data: dict[str, Any]) -> bytes:
    # CRLF rows (RFC 4180): a CR or LF inside a cell then gets quoted too.
    return _neutral_frame(data).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def table_xlsx(data: dict[str, Any]) -> bytes:
    frame = _neutral_frame(data)
    buffer = io.BytesIO()
    title = str(data.get("title") or "Table")
    sheet = re.sub(r"[\[\]:*?/\\']", " ", title)[:31].strip() or "Table"
    # Strings stay strings: no formulas and no hyperlinks made from cell text.
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buffer, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        frame.to_excel(writer, sheet_name=sheet, index=False, startrow=2)
        book, ws = writer.book, writer.sheets[sheet]
        ws.write_string(0, 0, neutralise(title), book.add_format({"bold": True, "font_size": 13}))
        if data.get("unit_note"):
            ws.write_string(1, 0, neutralise(str(data["unit_note"])), book.add_format({"italic": True}))
        for i, column in enumerate(data.get("columns") or []):
            kind = column.get("format", "text")
            fmt = xlsx_format(kind, decimals_of(frame, frame.columns[i])) if kind != "text" else None
            width = max(12, min(40, len(str(column.get("name", ""))) + 4))
            ws.set_column(i, i, width, book.add_format({"num_format": fmt}) if fmt else None)
        sources = source_lines(data.get("sources") or [])
        row = len(frame) + 4
        for line in sources + verification.check_lines(data):
            ws.write_string(row, 0, neutralise(line) if line.startswith(verification.MARK) else f"Source: {line}")
            row += 1
    return buffer.getvalue()


# The downloads' look: a chart's page follows the app's theme; its HTML file brings its own.
EXPORT_TEMPLATE = "plotly_white"
EXPORT_COLORS = ["#1f4e79", "#2e86c1", "#f39c12", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d"]


def chart_figure(data: dict[str, Any]) -> dict[str, Any]:
    """The chart's Plotly figure for the page. Figures are built theme-neutral
    (finstream/tools/charts.py), so ``st.plotly_chart(theme="streamlit")`` styles them."""
    from finstream.tools.plain_figure import plain_figure

    # Plotly draws titles, names, labels and hover text as its own small HTML: the figure's text
    # is made literal (once: figures built since issue 11 already are).
    figure = plain_figure(dict(data.get("figure") or {}))
    layout = dict(figure.get("layout") or {})
    layout.pop("template", None)  # figures stored before charts were theme-neutral carry one
    for key in ("title", "xaxis", "yaxis"):
        if key in layout and layout[key] is None:  # a null axis makes Plotly draw nothing at all
            layout.pop(key)
    figure["layout"] = layout
    return figure


def chart_html(data: dict[str, Any]) -> bytes:
    """A standalone HTML page of the chart (plotly.js embedded: it opens offline), styled with the
    export template and colours."""
    import plotly.io as pio

    figure = chart_figure(data)  # strings made literal, as on the page
    template = pio.templates[EXPORT_TEMPLATE].to_plotly_json()
    template.setdefault("layout", {})["colorway"] = EXPORT_COLORS
    figure["layout"]["template"] = template
    html = pio.to_html(figure, include_plotlyjs=True, full_html=True, validate=False)
    sources = source_lines(data.get("sources") or []) + verification.check_lines(data)
    if sources:
        from html import escape

        note = "".join(f"<li>{escape(line)}</li>" for line in sources)
        html = html.replace("</body>", f"<ul style='font:12px sans-serif'>{note}</ul></body>", 1)
    return html.encode("utf-8")


def source_lines(sources: Iterable[dict[str, Any]]) -> list[str]:
    """One readable line per source: 'aapl-10k.htm · us-gaap:Revenues · FY2023 · page 3'."""
    out = []
    for src in sources:
        if not isinstance(src, dict):
            continue
        bits = [src.get("document")]
        bits += [src.get(k) for k in ("section", "table", "concept", "period")]
        if src.get("page"):
            bits.append(f"page {src['page']}")
        line = " · ".join(str(b) for b in bits if b)
        if line and line not in out:
            out.append(line)
    return out


def conversation_markdown(
    title: str, turns: list[tuple[str, Any]], feedback: dict[str, Any] | None = None
) -> bytes:
    """The conversation as Markdown: questions, answers, each answer's artifacts as text, and the
    reader's feedback on it.

    ``turns`` holds ``("user", question)`` and ``("assistant", MessageView)`` pairs; ``feedback``
    maps message ids to their Feedback (rating 1 up, 0 down; comment).
    """
    from finstream.ui.inert import md_escape, md_inert

    # A Markdown viewer would fetch images and follow links from this text: exported inert too.
    lines = [f"# {md_escape(title)}", ""]
    for role, item in turns:
        if role == "user":
            lines += [f"## Q: {md_escape(item)}", ""]
            continue
        lines += [md_inert(item.text.strip()) or "_(no text)_", ""]
        notes = verification.mark_text(item.text, item.checks, str)[1]  # the text's unverified numbers
        lines += [f"- {verification.MARK} {md_escape(n)}" for n in notes] + ([""] if notes else [])
        if item.state != "complete":
            note = f"_Answer {item.state}"
            if item.error:
                note += f": {md_escape(item.error['message'])}"
            lines += [note + "_", ""]
        for art in item.artifacts:
            lines += _artifact_markdown(art)
        rated = (feedback or {}).get(item.message_id)
        if rated is not None:
            verdict = "thumbs up" if rated.rating else "thumbs down"
            lines += [f"_Feedback: {verdict}" + (f" — {rated.comment}" if rated.comment else "") + "_", ""]
    return "\n".join(lines).encode("utf-8")


def _artifact_markdown(art: Artifact) -> list[str]:
    from finstream.ui.inert import md_inert

    kind, data, title = art.kind, art.data, art.title

    def e(value: Any) -> str:  # every string here came from the model or a filing
        return md_inert(str(value if value is not None else "")).replace("|", "\\|")

    lines: list[str] = []
    if kind == "metric":
        value = data.get("display") or format_value(data.get("value"), data.get("unit"))
        delta = f" ({e(data['delta_display'])})" if data.get("delta_display") else ""
        lines.append(f"- **{e(title)}**: {e(value)}{delta}")
    elif kind == "table":
        frame = table_frame(data)
        lines += [f"**{e(title)}**" + (f" ({e(data['unit_note'])})" if data.get("unit_note") else ""), ""]
        lines.append("| " + " | ".join(e(c) for c in frame.columns) + " |")
        lines.append("|" + "---|" * len(frame.columns))
        formats = [c.get("format", "text") for c in data.get("columns") or []]
        places = [decimals_of(frame, n) if f != "text" else 0 for n, f in zip(frame.columns, formats, strict=True)]
        for row in frame.itertuples(index=False):
            cells = [e(cell_text(v, f, d)) for v, f, d in zip(row, formats, places, strict=True)]
            lines.append("| " + " | ".join(cells) + " |")
    elif kind == "chart":
        spec = data.get("spec") or {}
        lines.append(f"**Chart: {e(title)}** ({e(spec.get('chart_type', 'chart'))})")
        lines.append("")
        x = spec.get("x") or []
        for series in spec.get("series") or []:
            pairs = ", ".join(f"{e(p)}: {e(v)}" for p, v in zip(x, series.get("values") or [], strict=False))
            lines.append(f"- {e(series.get('name'))}: {pairs}")
    for line in source_lines(art.sources):
        lines.append(f"  - Source: {e(line)}")
    lines += [f"  - {e(line)}" for line in verification.check_lines(data)]
    lines.append("")
    return lines
