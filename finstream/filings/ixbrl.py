"""Inline XBRL HTML (10-K, 10-Q, 8-K): tagged facts with their contexts, plus sections and tables."""

from __future__ import annotations

import re

from lxml import etree

from finstream.filings import html_doc, ixt
from finstream.filings.model import Filing, FilingError
from finstream.filings.safe_xml import parse_xml
from finstream.filings.xbrl_common import (
    RawFact,
    add_dei,
    apply_dei,
    concept_name,
    parse_contexts,
    parse_decimals,
    parse_units,
    to_facts,
)

IX_NS = ("http://www.xbrl.org/2013/inlineXBRL", "http://www.xbrl.org/2008/inlineXBRL")


def _ix_elements(root: etree._Element, name: str) -> list[etree._Element]:
    return [el for ns in IX_NS for el in root.iter(f"{{{ns}}}{name}")]


def _scale(el: etree._Element) -> int:
    # Negative scales are real (a percentage shown as 88 with scale="-2" is 0.88); only absurd
    # magnitudes are refused, so a hostile file cannot ask for 10**100000.
    try:
        scale = int(el.get("scale") or 0)
    except ValueError:
        return 0
    return scale if -30 <= scale <= 30 else 0


def numeric_value(el: etree._Element) -> float:
    """An ix:nonFraction's value: its text under its ``format``, times 10**scale, negated by sign="-".

    Decimal arithmetic keeps 0.88 exactly 0.88 (88 * 10**-2 in floats is 0.8800000000000001).
    Raises TransformError when the text does not fit the format.
    """
    value = ixt.numeric("".join(el.itertext()), el.get("format"))
    value = abs(value).scaleb(_scale(el))
    return float(-value if el.get("sign") == "-" else value)


def load_ixbrl(filename: str, data: bytes) -> Filing:
    if data[:1].isspace() and data.lstrip()[:5] == b"<?xml":
        data = data.lstrip()  # whitespace before the XML declaration (Spire's 10-Q) is harmless
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
        name = concept_name(el.get("name") or "", el.nsmap)
        if name.startswith("dei:"):
            text = ixt.text_value("".join(el.itertext()), el.get("format"))
            add_dei(dei, name[4:], text, contexts.get(el.get("contextRef") or ""))
    raw: list[RawFact] = []
    unreadable: dict[str, int] = {}
    for n, el in enumerate(_ix_elements(root, "nonFraction")):
        if el.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true":
            continue
        try:
            value = numeric_value(el)
        except ixt.TransformError:
            fmt = el.get("format") or "no format"
            unreadable[fmt] = unreadable.get(fmt, 0) + 1
            continue
        unit = units.get(el.get("unitRef") or "", el.get("unitRef") or "")
        raw.append(
            RawFact(concept_name(el.get("name") or "", el.nsmap), el.get("contextRef") or "", unit, value, _scale(el), n,
                    parse_decimals(el.get("decimals")))
        )
        # Marker so the text pass can tell this fact its section and table (see html_doc).
        el.text = f"\ue000{n}\ue001" + (el.text or "")
    for fmt, count in sorted(unreadable.items()):
        filing.warnings.append(f"{count} tagged number(s) with format {fmt} could not be read and were left out")
    calendar = apply_dei(filing, dei, contexts)
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
