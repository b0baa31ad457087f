"""XBRL 2.1 instance documents (``*_htm.xml`` as EDGAR extracts them from inline XBRL)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from lxml import etree

from finstream.filings.model import Filing, Section
from finstream.filings.xbrl_common import (
    XBRLI,
    RawFact,
    add_dei,
    apply_dei,
    parse_contexts,
    parse_decimals,
    parse_units,
    standard_prefix,
    to_facts,
)

_SKIP_NS = {XBRLI, "http://www.xbrl.org/2003/linkbase", "http://xbrl.org/2006/xbrldi"}


def load_xbrl_instance(filename: str, root: etree._Element) -> Filing:
    filing = Filing(filename=filename, format="xbrl")
    contexts = parse_contexts(root)
    units = parse_units(root)
    prefixes = {ns: p for p, ns in (root.nsmap or {}).items() if p}
    dei: dict[str, str] = {}
    raw: list[RawFact] = []
    for el in root:
        if not isinstance(el.tag, str):
            continue
        qn = etree.QName(el)
        if qn.namespace in _SKIP_NS:
            continue
        prefix = standard_prefix(qn.namespace, prefixes.get(qn.namespace or "", ""))
        concept = f"{prefix}:{qn.localname}" if prefix else qn.localname
        text = (el.text or "").strip()
        unit_ref = el.get("unitRef")
        if not unit_ref:
            if prefix == "dei" or "/dei/" in (qn.namespace or ""):
                add_dei(dei, qn.localname, " ".join(text.split()), contexts.get(el.get("contextRef") or ""))
            continue
        if el.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true":
            continue
        try:
            value = float(Decimal(text))  # an instance holds the value itself: no display formatting
        except InvalidOperation:
            continue
        raw.append(
            RawFact(concept, el.get("contextRef") or "", units.get(unit_ref, unit_ref), value,
                    decimals=parse_decimals(el.get("decimals")))
        )
    calendar = apply_dei(filing, dei, contexts)
    filing.facts = to_facts(raw, contexts, calendar, filing)
    if filing.period_end is None and filing.facts:
        filing.period_end = max(f.period_end for f in filing.facts)
    filing.sections = [
        Section(
            title="Overview",
            text=f"XBRL instance for {filing.company or 'unknown company'} ({filing.form or 'form unknown'}, "
            f"{filing.fiscal_period or ''}): {len(filing.facts)} numeric facts, "
            f"{len(contexts)} contexts.\n" + "\n".join(sorted({f.concept for f in filing.facts})),
        )
    ]
    return filing
