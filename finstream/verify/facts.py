"""Fact ids and the index of what an answer may cite: the conversation's filings and the tool
results of this answer (series points, table cells, quoted passages).

A fact id is ``f_`` and 12 hex digits of a SHA-1 over the fact's identity: filing, concept or line
item, period (start and end), dimensions, unit and the context it was reported in. It is the same
in every process and every run, so an id a data tool returned names the same fact in an output
tool, an event log replayed a week later, or a test.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from finstream.filings.model import Fact, Filing
from finstream.filings.numbers import parse_number
from finstream.filings.periods import duration_months
from finstream.verify.model import FactRef
from finstream.verify.numbers import scale_of
from finstream.verify.periods import Period, parse_period


def fact_id(
    document: str,
    concept: str,
    start: str | date | None,
    end: str | date | None,
    unit: str,
    dimensions: dict[str, str] | None = None,
    context: str | None = None,
) -> str:
    """The stable id of one fact (see the module docstring)."""
    dims = ";".join(f"{k}={v}" for k, v in sorted((dimensions or {}).items()))
    parts = [document, concept, str(start or ""), str(end or ""), unit, dims, context or ""]
    return "f_" + hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:12]


def id_of(fact: Fact) -> str:
    return fact_id(fact.source.document, fact.concept, fact.period_start, fact.period_end, fact.unit,
                   fact.dimensions, fact.source.context)


def id_of_point(point: dict[str, Any], concept: str, unit: str) -> str:
    """The id of a get_financial_data point: the same as that of the fact it was read from."""
    src = point.get("source") or {}
    return fact_id(src.get("document", ""), src.get("concept") or concept, point.get("start"),
                   point.get("end"), unit, None, src.get("context"))


def add_fact_ids(result: dict[str, Any]) -> dict[str, Any]:
    """Give every point of a get_financial_data result its ``fact_id`` (in place; returns it)."""
    for p in result.get("points") or []:
        p["fact_id"] = id_of_point(p, result.get("concept", ""), result.get("unit", ""))
    return result


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


@dataclass
class Known:
    """A fact as the checker sees it."""

    id: str
    document: str
    concept: str
    value: float
    unit: str  # USD, USD/shares, shares, pure, ...; "table" or "text" when a printed number's unit is unknown
    label: str | None = None
    start: date | None = None
    end: date | None = None
    period_label: str | None = None
    context: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    origin: str = "filing"  # filing | series | table | passage
    section: str | None = None

    @property
    def period(self) -> Period | None:
        return parse_period(self.period_label) if self.period_label else None

    @property
    def months(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return ((self.end - self.start).days + 1) / 30.44

    def ref(self) -> FactRef:
        return FactRef(
            id=self.id, document=self.document, concept=self.concept, label=self.label,
            period=self.period_label, start=self.start.isoformat() if self.start else None,
            end=self.end.isoformat() if self.end else None, value=self.value, unit=self.unit,
            context=self.context, section=self.section,
        )

    def same_measure(self, other: Known) -> bool:
        """Same concept, unit and dimensions (two periods of one line)."""
        return (self.concept.split(":")[-1].lower() == other.concept.split(":")[-1].lower()
                and self.unit == other.unit and self.dimensions == other.dimensions)

    def same_period(self, other: Known) -> bool:
        if self.end is not None and other.end is not None:
            return self.end == other.end and self.start == other.start
        return self.period_label is not None and self.period_label == other.period_label


def known_from_fact(fact: Fact) -> Known:
    return Known(
        id=id_of(fact), document=fact.source.document, concept=fact.concept, value=fact.value,
        unit=fact.unit, label=fact.label, start=fact.period_start, end=fact.period_end,
        period_label=fact.source.period or fact.period_end.isoformat(), context=fact.source.context,
        dimensions=dict(fact.dimensions),
    )


class FilingFacts:
    """Every fact of some filings, by id and by value (the part of the index that does not change)."""

    def __init__(self, filings: list[Filing]) -> None:
        self.by_id: dict[str, Known] = {}
        for f in filings:
            for fact in f.facts:
                k = known_from_fact(fact)
                self.by_id.setdefault(k.id, k)
        self._sorted = sorted(self.by_id.values(), key=lambda k: k.value)
        self._values = [k.value for k in self._sorted]
        # What the filings call the period of each length ending on a day: a printed table's
        # "Years ended September 28, 2024" column is the FY2024 of the XBRL facts.
        self.labels: dict[tuple[str, date, int], str] = {}
        self.by_concept: dict[str, list[Known]] = {}  # local name, lower case -> facts without dimensions
        for k in self.by_id.values():
            if not k.dimensions:
                self.by_concept.setdefault(k.concept.split(":")[-1].lower(), []).append(k)
            if k.period_label and k.end is not None and not k.dimensions:
                months = round(k.months) if k.months else 0
                self.labels.setdefault((k.document, k.end, months), k.period_label)

    def label_for(self, document: str, end: date, months: int | None) -> str | None:
        """The period label the filing's own facts give a period of ``months`` ending on ``end``."""
        for delta in (0, -1, 1, -2, 2, -3, 3):
            day = end + timedelta(days=delta)
            for m in ([months] if months is not None else [12, 3, 0]):
                label = self.labels.get((document, day, m))
                if label:
                    return label
        return None

    def near(self, value: float, tolerance: float) -> list[Known]:
        lo = bisect.bisect_left(self._values, value - tolerance)
        hi = bisect.bisect_right(self._values, value + tolerance)
        return self._sorted[lo:hi]


class FactIndex:
    """The facts an answer may cite: its filings' facts plus what this answer's tools returned.

    ``pool`` holds the facts of this answer's tool results, in the order they came; derived numbers
    (growth, margins, sums) are recomputed from the pool only, never from the whole filing.
    """

    def __init__(self, filings: list[Filing] | FilingFacts | None = None) -> None:
        if isinstance(filings, FilingFacts):
            self.filing_facts = filings
        else:
            self.filing_facts = FilingFacts(filings or [])
        self.pool: list[Known] = []
        self._pool_ids: dict[str, Known] = {}
        self.seen = 0  # how many tool results of a ToolContext were read (see sync)

    def has_facts(self) -> bool:
        """Whether there is anything to check against (filing facts or data tool results)."""
        return bool(self.filing_facts.by_id or self.pool)

    def get(self, fid: str) -> Known | None:
        return self._pool_ids.get(fid) or self.filing_facts.by_id.get(fid)

    def near(self, value: float, tolerance: float) -> list[Known]:
        """Facts within tolerance of value: this answer's first, then the filings'."""
        out = [k for k in self.pool if abs(k.value - value) <= tolerance]
        ids = {k.id for k in out}
        out += [k for k in self.filing_facts.near(value, tolerance) if k.id not in ids]
        return out

    def add(self, known: Known) -> None:
        if known.id in self._pool_ids:
            return
        self._pool_ids[known.id] = known
        self.pool.append(known)

    def add_tool_result(self, name: str, result: Any) -> None:
        """Take in what a data tool returned (unknown tools and shapes are ignored)."""
        if not isinstance(result, dict):
            return
        if name == "get_financial_data":
            self._add_series(result)
        elif name == "get_table":
            self._add_table(result)
        elif name == "search_filing":
            for hit in result.get("results") or []:
                self._add_passage(hit)
        elif name == "compare_companies":  # one series per company, each its own concept
            for series in result.get("series") or []:
                if isinstance(series, dict):
                    self._add_series({"concept": series.get("concept") or "", "unit": result.get("unit", ""),
                                      "label": result.get("label"), "points": series.get("points")})
        elif name == "get_segment_data":  # one series per segment member
            for member in result.get("members") or []:
                if isinstance(member, dict):
                    self._add_series({"concept": result.get("concept") or "", "unit": result.get("unit", ""),
                                      "label": member.get("label"), "points": member.get("points")})

    def _add_series(self, result: dict[str, Any]) -> None:
        concept, unit = result.get("concept", ""), result.get("unit", "")
        for p in result.get("points") or []:
            if not isinstance(p, dict) or p.get("value") is None:
                continue
            src = p.get("source") or {}
            self.add(Known(
                id=p.get("fact_id") or id_of_point(p, concept, unit), document=src.get("document", ""),
                concept=src.get("concept") or concept, value=float(p["value"]), unit=unit,
                label=result.get("label"), start=_day(p.get("start")), end=_day(p.get("end")),
                period_label=p.get("period") or src.get("period"), context=src.get("context"), origin="series",
            ))

    def _add_table(self, result: dict[str, Any]) -> None:
        columns = [str(c) for c in result.get("columns") or []]
        note = " ".join(str(x or "") for x in (result.get("unit_note"), result.get("title")))
        scale = scale_of(note) or 1.0
        document = str(result.get("filing") or "")
        for r, row in enumerate(result.get("rows") or []):
            if not isinstance(row, list) or not row:
                continue
            label = str(row[0])
            for c, cell in enumerate(row[1:], start=1):
                value = parse_number(cell)
                if value is None:
                    continue
                header = columns[c] if c < len(columns) else ""
                percent = isinstance(cell, str) and "%" in cell
                period = parse_period(header)
                end = period.end if period is not None else None
                period_label = header or None
                if period is not None and end is not None and (period.kind is None or period.year is None):
                    months = duration_months(header) or duration_months(str(result.get("title") or ""))
                    period_label = self.filing_facts.label_for(document, end, months) or period_label
                self.add(Known(
                    id=fact_id(document, label, None, None, "table", {"column": header, "row": str(r)},
                               f"table {result.get('index')}"),
                    document=document, concept=label, value=value if percent else value * scale,
                    unit="%" if percent else "table", label=label, period_label=period_label,
                    end=end, origin="table", section=str(result.get("title") or "") or None,
                ))

    def _add_passage(self, hit: dict[str, Any]) -> None:
        """The figures a quoted passage prints, each with the period its own words give it."""
        from finstream.verify.text import claims_in  # text builds on this module

        text = str(hit.get("text") or "")
        document = str(hit.get("filing") or "")
        where = hit.get("section") or (f"page {hit['page']}" if hit.get("page") else None)
        for c in claims_in(text):
            unit = {"money": "USD", "per_share": "USD/shares", "percent": "%"}.get(c.kind, "text")
            period = c.period  # filing prose names the period before or after its figures
            assert c.span is not None  # claims_in gives every claim its span
            self.add(Known(
                id=fact_id(document, f"{c.text}@{c.span[0]}", None, None, unit, None, f"passage {where}"),
                document=document, concept=c.text or "", value=c.value, unit=unit,
                label=f"figure quoted in {where or document}",
                period_label=period.label() if period else None, end=period.end if period else None,
                origin="passage", section=where,
            ))

    def sync(self, results: list[tuple[str, Any]]) -> FactIndex:
        """Take in the tool results not seen yet (a ToolContext's running list)."""
        for name, result in results[self.seen :]:
            self.add_tool_result(name, result)
        self.seen = len(results)
        return self
