"""HTML (and inline-XBRL XHTML) to text sections and clean tables.

Scripts, styles and hidden XBRL headers are removed before any text is taken, so nothing of them
reaches search results or the model. Sections follow the 10-K/10-Q "Item N." headings; tables are
cut out, cleaned (see tables.py) and left in the text as their rows, so search still finds them.
Facts tagged in the HTML are located by markers (private-use characters) put into the tree before
the text is taken, which tells each fact its section and table without a second pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from finstream.filings.model import Section, Table
from finstream.filings.numbers import clean_text, scale_from_text
from finstream.filings.tables import Cell, build_rows

_DROP = {"script", "style", "noscript", "template", "iframe", "object", "embed", "head", "header"}
_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "section", "hr"}
_CELLS = {"td", "th"}
MARK = re.compile("\ue000(\\d+)\ue001")
_ITEM = re.compile(r"^(?:part\s+(i{1,3}|iv)[\s,.\-–—]*)?item\s+(\d{1,2}[a-c]?)\s*[.:\-–—]?\s*(.*)$", re.I)
STATEMENT_TITLE = re.compile(
    r"\b(statements?|statement) of (consolidated )?(operations|income|earnings|comprehensive (income|loss)|"
    r"cash flows|financial position|financial condition)\b|\bbalance sheets?\b|\bincome statements?\b",
    re.I,
)
_PART = re.compile(r"^part\s+(i{1,3}|iv)\b", re.I)


def local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower().split(":")[-1] if "}" in tag or ":" in tag else tag.lower()


@dataclass
class HtmlContent:
    sections: list[Section] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # marker number -> (section title, table index or None)
    located: dict[int, tuple[str | None, int | None]] = field(default_factory=dict)


def strip_unsafe(root: etree._Element) -> None:
    """Remove scripts, styles, embedded objects, comments and XBRL's hidden header."""
    doomed = [
        el for el in root.iter() if not isinstance(el.tag, str) or (local(el) in _DROP and el.tag != "header")
    ]
    for el in doomed:
        parent = el.getparent()
        if parent is None:
            continue
        tail, prev = el.tail, el.getprevious()
        parent.remove(el)
        if tail:  # keep the text that followed the removed element
            if prev is not None:
                prev.tail = (prev.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail


def _table_grid(table: etree._Element) -> list[list[Cell]]:
    grid: list[list[Cell]] = []
    for tr in table.iter():
        if local(tr) != "tr":
            continue
        row: list[Cell] = []
        col = 0
        for td in tr:
            if local(td) not in _CELLS:
                continue
            try:
                span = max(1, min(int(td.get("colspan") or 1), 50))
            except ValueError:
                span = 1
            row.append(Cell(col, col + span, clean_text("".join(td.itertext()))))
            col += span
        grid.append(row)
    return grid


def extract(body: etree._Element, *, title_hint: str = "Document") -> HtmlContent:
    """Sections and tables of an HTML body (already stripped of unsafe elements)."""
    out = HtmlContent()
    raw_tables: list[tuple[list[str], list[list[object]], list[int]]] = []
    for table in list(body.iter()):
        if local(table) != "table" or any(local(a) == "table" for a in table.iterancestors()):
            continue
        grid = _table_grid(table)
        markers_in = [int(m) for row in grid for c in row for m in MARK.findall(c.text)]
        for row in grid:
            for c in row:
                c.text = MARK.sub("", c.text)
        columns, rows = build_rows(grid)
        index = len(raw_tables)
        raw_tables.append((columns, rows, markers_in))
        lines = [" ".join("" if v is None else _fmt(v) for v in r) for r in rows] if rows else []
        for child in list(table):
            table.remove(child)
        table.text = f"\n\ue002{index}\ue003\n" + "\n".join(lines) + "\n"
    for el in body.iter():
        name = local(el)
        if name in _BLOCKS:
            el.tail = "\n" + (el.tail or "")
        elif name in _CELLS:
            el.tail = " " + (el.tail or "")
    text = "".join(body.itertext())
    title = title_hint
    part = ""
    current: list[str] = []
    recent: list[str] = []
    table_titles: dict[int, tuple[str, str]] = {}

    def flush() -> None:
        body_text = "\n".join(current).strip()
        if body_text:
            out.sections.append(Section(title=title, text=body_text))

    for raw in text.split("\n"):
        line = clean_text(raw)
        if not line:
            continue
        t = re.match("\ue002(\\d+)\ue003", line)
        if t:
            idx = int(t.group(1))
            # A statement's title may sit three or four lines up, above its date and unit lines.
            titled = next((i for i in range(len(recent) - 1, -1, -1) if len(recent[i]) < 150 and STATEMENT_TITLE.search(recent[i])), None)
            near = recent[titled:][:3] if titled is not None else recent[-2:]
            caption = " ".join(x for x in near if len(x) < 200)
            table_titles[idx] = (caption or f"Table {idx + 1}", title)
            for marker in raw_tables[idx][2]:
                out.located[marker] = (title, idx)
            continue
        markers = [int(m) for m in MARK.findall(line)]
        if markers:
            line = clean_text(MARK.sub("", line))
        p = _PART.match(line)
        if p and len(line) < 120:
            part = f"Part {p.group(1).upper()}"
        m = _ITEM.match(line)
        if m and len(line) < 250:
            flush()
            current = []
            if m.group(1):
                part = f"Part {m.group(1).upper()}"
            heading = f"Item {m.group(2).upper()}. {m.group(3)}".strip(" .")
            title = f"{part}, {heading}" if part else heading
        for mk in markers:
            out.located[mk] = (title, None)
        if line:
            current.append(line)
            recent.append(line)
            recent = recent[-5:]
    flush()
    out.sections = _merge_duplicates(out.sections)
    # Layout tables with no rows are dropped; facts located in tables follow the renumbering.
    renumber: dict[int, int] = {}
    for idx, (columns, rows, _m) in enumerate(raw_tables):
        if not rows:
            continue
        caption, section = table_titles.get(idx, (f"Table {idx + 1}", None))
        renumber[idx] = len(out.tables)
        out.tables.append(
            Table(title=caption, columns=columns, rows=rows, section=section, unit_note=_unit_note(caption))
        )
    out.located = {m: (sec, renumber.get(t) if t is not None else None) for m, (sec, t) in out.located.items()}
    return out


def _merge_duplicates(sections: list[Section]) -> list[Section]:
    """The table of contents repeats every Item heading (with a page number); keep one per Item.

    Two titles are the same Item when their item number and heading words agree, whatever the
    Part prefix (the contents often omit it); the longer text wins, its title keeps the Part.
    """

    def key(title: str) -> str:
        t = re.sub(r"^Part [IV]+, ", "", title)
        return re.sub(r"\s+\d{1,3}$", "", t).lower()

    best: dict[str, Section] = {}
    order: list[str] = []
    for s in sections:
        s.title = re.sub(r"\s+\d{1,3}$", "", s.title)
        k = key(s.title)
        if k not in best:
            order.append(k)
            best[k] = s
        elif len(s.text) > len(best[k].text):
            best[k] = s
    return [best[k] for k in order]


def _unit_note(caption: str) -> str | None:
    m = re.search(r"\(([^)]*\bin\s+(?:millions|thousands|billions)[^)]*)\)", caption, re.I)
    if m:
        return m.group(1)
    return "in millions" if scale_from_text(caption) == 6 else None


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() else f"{v:,}"
    return str(v)
