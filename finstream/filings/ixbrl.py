"""Inline XBRL HTML (10-K, 10-Q, 8-K): tagged facts with their contexts, plus sections and tables."""

from __future__ import annotations

import re

from lxml import etree

from finstream.filings import html_doc
from finstream.filings.model import Filing, FilingError
from finstream.filings.numbers import parse_number
from finstream.filings.safe_xml import parse_xml
from finstream.filings.xbrl_common import RawFact, apply_dei, parse_contexts, parse_units, to_facts

IX_NS = ("http://www.xbrl.org/2013/inlineXBRL", "http://www.xbrl.org/2008/inlineXBRL")


def _ix_elements(root: etree._Element, name: str) -> list[etree._Element]:
    return [el for ns in IX_NS for el in root.iter(f"{{{ns}}}{name}")]


def _scale(el: etree._Element) -> int:
    try:
        return max(-20, min(int(el.get("scale") or 0), 20))
    except ValueError:
        return 0


def _numeric_value(el: etree._Element) -> float | None:
    fmt = (el.get("format") or "").lower()
    text = "".join(el.itertext()).strip()
    if "zero" in fmt or "fixed-zero" in fmt or text in {"-", "—", "–"}:
        value = 0.0
    else:
        if "comma-decimal" in fmt or "numcommadecimal" in fmt:
            text = text.replace(".", "").replace(",", ".")
        value = parse_number(text)
        if value is None:
            return None
        value = abs(value)
    value *= 10 ** _scale(el)
    return -value if el.get("sign") == "-" else value


def load_ixbrl(filename: str, data: bytes) -> Filing:
    try:
        root = parse_xml(filename, data)
    except FilingError as exc:
        if "entit" in exc.reason:
            raise
        # Some filers' iXBRL is not well-formed XML: lxml's recovering parser keeps the
        # namespaces (an HTML parser would drop them, and the facts with them).
        root = parse_xml(filename, data, recover=True)
        filing = load_ixbrl_tree(filename, root)
        filing.warnings.append(f"not well-formed XHTML ({exc.reason}); read what could be recovered")
        return filing
    return load_ixbrl_tree(filename, root)


def load_ixbrl_tree(filename: str, root: etree._Element) -> Filing:
    filing = Filing(filename=filename, format="ixbrl")
    contexts = parse_contexts(root)
    units = parse_units(root)
    dei: dict[str, str] = {}
    for el in _ix_elements(root, "nonNumeric"):
        name = el.get("name") or ""
        if name.startswith("dei:"):
            dei.setdefault(name[4:], " ".join("".join(el.itertext()).split()))
    raw: list[RawFact] = []
    for n, el in enumerate(_ix_elements(root, "nonFraction")):
        if el.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true":
            continue
        value = _numeric_value(el)
        if value is None:
            continue
        unit = units.get(el.get("unitRef") or "", el.get("unitRef") or "")
        raw.append(RawFact(el.get("name") or "", el.get("contextRef") or "", unit, value, _scale(el), n))
        # Marker so the text pass can tell this fact its section and table (see html_doc).
        el.text = f"\ue000{n}\ue001" + (el.text or "")
    calendar = apply_dei(filing, dei)
    body = next((el for el in root.iter() if html_doc.local(el) == "body"), root)
    html_doc.strip_unsafe(body)
    content = html_doc.extract(body, title_hint="Cover page")
    filing.sections = content.sections
    filing.tables = content.tables
    filing.facts = to_facts(raw, contexts, calendar, filing, content.located)
    if filing.period_end is None and filing.facts:
        filing.period_end = max(f.period_end for f in filing.facts)
    if not filing.company:
        title = root.findtext(".//{http://www.w3.org/1999/xhtml}title") or ""
        filing.company = re.sub(r"\s+", " ", title).strip() or None
    return filing
