"""What XBRL instances and inline XBRL share: contexts, units, dei metadata, period labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from lxml import etree

from finstream.filings.model import Fact, Filing, Source
from finstream.filings.periods import FiscalCalendar, calendar_from_focus

XBRLI = "http://www.xbrl.org/2003/instance"
XBRLDI = "http://xbrl.org/2006/xbrldi"


@dataclass
class Context:
    id: str
    start: date | None
    end: date
    dimensions: dict[str, str] = field(default_factory=dict)


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


def parse_contexts(root: etree._Element) -> dict[str, Context]:
    out: dict[str, Context] = {}
    for ctx in root.iter(f"{{{XBRLI}}}context"):
        instant = ctx.findtext(f".//{{{XBRLI}}}instant")
        start = ctx.findtext(f".//{{{XBRLI}}}startDate")
        end = ctx.findtext(f".//{{{XBRLI}}}endDate")
        end_date = _date(instant) if instant else _date(end)
        if end_date is None:
            continue
        dims = {
            m.get("dimension", ""): (m.text or "".join(m.itertext())).strip()
            for m in ctx.iter(f"{{{XBRLDI}}}explicitMember", f"{{{XBRLDI}}}typedMember")
        }
        out[ctx.get("id", "")] = Context(ctx.get("id", ""), None if instant else _date(start), end_date, dims)
    return out


def parse_units(root: etree._Element) -> dict[str, str]:
    def name(measure: str) -> str:
        return measure.strip().split(":")[-1]

    out: dict[str, str] = {}
    for unit in root.iter(f"{{{XBRLI}}}unit"):
        num = unit.find(f".//{{{XBRLI}}}unitNumerator")
        den = unit.find(f".//{{{XBRLI}}}unitDenominator")
        if num is not None and den is not None:
            out[unit.get("id", "")] = f"{name(num.findtext(f'{{{XBRLI}}}measure') or '')}/{name(den.findtext(f'{{{XBRLI}}}measure') or '')}"
        else:
            out[unit.get("id", "")] = name(unit.findtext(f"{{{XBRLI}}}measure") or "")
    return out


@dataclass
class RawFact:
    concept: str  # prefix:LocalName
    context: str
    unit: str
    value: float
    scale: int = 0
    marker: int | None = None


def apply_dei(filing: Filing, dei: dict[str, str]) -> FiscalCalendar:
    """Fill the filing's metadata from dei facts; return the fiscal calendar they imply."""
    filing.company = dei.get("EntityRegistrantName") or filing.company
    cik = dei.get("EntityCentralIndexKey")
    filing.cik = cik.strip().lstrip("0") or cik if cik else filing.cik
    filing.ticker = dei.get("TradingSymbol") or filing.ticker
    filing.form = dei.get("DocumentType") or filing.form
    period_end = _date(dei.get("DocumentPeriodEndDate")) or _parse_loose(dei.get("DocumentPeriodEndDate"))
    filing.period_end = period_end or filing.period_end
    fy = dei.get("DocumentFiscalYearFocus")
    fp = dei.get("DocumentFiscalPeriodFocus")
    fiscal_year = int(fy) if fy and fy.strip().isdigit() else None
    if fp and fiscal_year:
        filing.fiscal_period = f"FY{fiscal_year}" if fp.strip() == "FY" else f"{fp.strip()} FY{fiscal_year}"
    return calendar_from_focus(period_end, fiscal_year, dei.get("CurrentFiscalYearEndDate"))


def _parse_loose(text: str | None) -> date | None:
    from finstream.filings.periods import parse_date

    return parse_date(text)


def to_facts(
    raw: list[RawFact],
    contexts: dict[str, Context],
    calendar: FiscalCalendar,
    filing: Filing,
    located: dict[int, tuple[str | None, int | None]] | None = None,
) -> list[Fact]:
    """Facts with labels and sources; the same number tagged twice is kept once."""
    seen: set[tuple] = set()
    out: list[Fact] = []
    for r in raw:
        ctx = contexts.get(r.context)
        if ctx is None:
            continue
        key = (r.concept, r.context, r.unit, r.value)
        if key in seen:
            continue
        seen.add(key)
        fy, fp, label = calendar.label(ctx.start, ctx.end)
        section, table = (located or {}).get(r.marker, (None, None)) if r.marker is not None else (None, None)
        out.append(
            Fact(
                concept=r.concept,
                label=_label(r.concept),
                value=r.value,
                unit=r.unit or "",
                scale=r.scale,
                period_start=ctx.start,
                period_end=ctx.end,
                fiscal_year=fy,
                fiscal_period=fp,
                form=filing.form,
                dimensions=ctx.dimensions,
                source=Source(
                    document=filing.filename,
                    section=section,
                    table=filing.tables[table].title if table is not None and table < len(filing.tables) else None,
                    concept=r.concept,
                    context=r.context,
                    period=label,
                ),
            )
        )
    return out


def _label(concept: str) -> str:
    """'us-gaap:NetIncomeLoss' -> 'Net Income Loss' (XBRL label linkbases are not in the file)."""
    import re

    local_name = concept.split(":")[-1]
    return " ".join(re.findall(r"[A-Z]+(?=[A-Z][a-z]|$)|[A-Z]?[a-z0-9]+|[A-Z]+", local_name)) or local_name
