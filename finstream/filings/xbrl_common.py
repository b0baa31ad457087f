"""What XBRL instances and inline XBRL share: contexts, units, dei metadata, period labels."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from lxml import etree

from finstream.filings.model import Fact, Filing, Source
from finstream.filings.periods import FiscalCalendar, calendar_from_focus, calendar_info

XBRLI = "http://www.xbrl.org/2003/instance"
XBRLDI = "http://xbrl.org/2006/xbrldi"


_STANDARD_PREFIXES = (
    (re.compile(r"^https?://fasb\.org/us-gaap/"), "us-gaap"),
    (re.compile(r"^https?://xbrl\.ifrs\.org/taxonomy/[^/]+/ifrs-full$"), "ifrs-full"),
    (re.compile(r"^https?://xbrl\.sec\.gov/dei/"), "dei"),
    (re.compile(r"^https?://fasb\.org/srt/"), "srt"),
)


def standard_prefix(namespace: str | None, prefix: str) -> str:
    """The usual prefix for a standard taxonomy's namespace, whatever the filer called it
    (an IFRS filer may write ``ifrs:Revenue``; concepts.py knows ``ifrs-full:Revenue``)."""
    for pattern, name in _STANDARD_PREFIXES:
        if namespace and pattern.match(namespace):
            return name
    return prefix


def concept_name(name: str, nsmap: dict) -> str:
    """``prefix:Local`` with the prefix made standard for standard taxonomies."""
    prefix, sep, local = name.partition(":")
    if not sep:
        return name
    canonical = standard_prefix(nsmap.get(prefix), prefix)
    return name if canonical == prefix else f"{canonical}:{local}"


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
        # A typed member's value is the text of its child element (<…Axis.domain>2025-02-01</…>).
        dims = {
            m.get("dimension", ""): " ".join("".join(m.itertext()).split())
            for m in ctx.iter(f"{{{XBRLDI}}}explicitMember", f"{{{XBRLDI}}}typedMember")
        }
        out[ctx.get("id", "")] = Context(ctx.get("id", ""), None if instant else _date(start), end_date, dims)
    return out


def parse_units(root: etree._Element) -> dict[str, str]:
    def name(measure: str) -> str:
        return measure.strip().split(":")[-1]

    def measures(el: etree._Element | None) -> str:
        # A product of measures (rare: "USD*shares") is written with "*", as Arelle does.
        return "*".join(name(m.text or "") for m in el.iter(f"{{{XBRLI}}}measure")) if el is not None else ""

    out: dict[str, str] = {}
    for unit in root.iter(f"{{{XBRLI}}}unit"):
        num = unit.find(f".//{{{XBRLI}}}unitNumerator")
        den = unit.find(f".//{{{XBRLI}}}unitDenominator")
        if num is not None and den is not None:
            out[unit.get("id", "")] = f"{measures(num)}/{measures(den)}"
        else:
            out[unit.get("id", "")] = measures(unit)
    return out


@dataclass
class RawFact:
    concept: str  # prefix:LocalName
    context: str
    unit: str
    value: float
    scale: int = 0
    marker: int | None = None
    decimals: int | str | None = None  # int, "INF" or None (not stated)


def parse_decimals(text: str | None) -> int | str | None:
    t = (text or "").strip()
    if t.upper() == "INF":
        return "INF"
    try:
        return int(t)
    except ValueError:
        return None


def precision_rank(decimals: int | str | None) -> int:
    """Higher is more precise: INF beats any number of decimals, which beats none stated."""
    if decimals == "INF":
        return 10_000
    return decimals if isinstance(decimals, int) else -10_000


def add_dei(dei: dict[str, str], name: str, value: str, context: Context | None) -> None:
    """Keep one value per dei name, preferring the registrant's (a context with no dimensions)."""
    if name not in dei or (context is not None and not context.dimensions and dei.get(f"_dims:{name}") == "1"):
        dei[name] = value
        dei[f"_dims:{name}"] = "1" if context is not None and context.dimensions else "0"


def apply_dei(filing: Filing, dei: dict[str, str], contexts: dict[str, Context] | None = None) -> FiscalCalendar:
    """Fill the filing's metadata from dei facts; return the fiscal calendar they imply."""
    dei = {k: v for k, v in dei.items() if not k.startswith("_dims:")}
    filing.dei = dict(dei)
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
    fye = dei.get("CurrentFiscalYearEndDate")
    if not fye and contexts:
        fye = _annual_end(contexts, period_end)
    annual = str(filing.form or "").split("/")[0] in ("10-K", "10-KT", "20-F", "40-F")
    cal = calendar_from_focus(period_end, fiscal_year, fye, fp, filing.warnings, annual=annual)
    source = "cover (dei)" if dei.get("CurrentFiscalYearEndDate") else "period focus and contexts"
    filing.calendar = calendar_info(cal, source) if cal.quarters_known else None
    return cal


def _annual_end(contexts: dict[str, Context], period_end: date | None) -> str | None:
    """Without a stated year end: the end of the latest twelve-month context (a 10-K's own year)."""
    ends = [c.end for c in contexts.values() if c.start is not None and 350 <= (c.end - c.start).days <= 380]
    if period_end is not None and ends and min(abs((e - period_end).days) for e in ends) <= 10:
        return f"--{period_end.month:02d}-{period_end.day:02d}"
    return None


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
    """Facts with labels and sources, one per (concept, period, dimensions, unit).

    A fact tagged twice (the statement and a note) is kept once; where the copies differ, the
    most precise one (``decimals``) wins, and among equals the first.
    """
    best: dict[tuple, RawFact] = {}
    for r in raw:
        ctx = contexts.get(r.context)
        if ctx is None:
            continue
        key = (r.concept, ctx.start, ctx.end, tuple(sorted(ctx.dimensions.items())), r.unit)
        old = best.get(key)
        if old is None or precision_rank(r.decimals) > precision_rank(old.decimals):
            best[key] = r
    out: list[Fact] = []
    for r in best.values():
        ctx = contexts[r.context]
        fy, fp, label = calendar.label(ctx.start, ctx.end)
        section, table = (located or {}).get(r.marker, (None, None)) if r.marker is not None else (None, None)
        out.append(
            Fact(
                concept=r.concept,
                label=_label(r.concept),
                value=r.value,
                unit=r.unit or "",
                scale=r.scale,
                decimals=r.decimals,
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
    local_name = concept.split(":")[-1]
    return " ".join(re.findall(r"[A-Z]+(?=[A-Z][a-z]|$)|[A-Z]?[a-z0-9]+|[A-Z]+", local_name)) or local_name
