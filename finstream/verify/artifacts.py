"""Checking the numbers of a chart, table or metric before it is shown, and filling the values a
model gave as fact ids from the facts themselves.

The functions take the validated tool input and return the input to show (values filled in) and
one NumberCheck per number; an unknown fact id raises ``UnknownFact`` (the model is told).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from finstream.filings.model import Source
from finstream.formatting import format_value
from finstream.verify.check import Claim, check_claim
from finstream.verify.facts import FactIndex, Known
from finstream.verify.model import NumberCheck
from finstream.verify.numbers import float_tolerance, scale_of
from finstream.verify.periods import Period, parse_period
from finstream.verify.text import subject_of

INFERRED_SCALES = (1.0, 1e3, 1e6, 1e9)


class UnknownFact(ValueError):
    """A fact id that is neither in the filings nor in this answer's tool results."""


def kind_of(unit: str | None) -> str:
    u = (unit or "").strip().lower()
    if u in ("%", "percent", "pct") or u.startswith("%"):
        return "percent"
    if "/share" in u or "per share" in u or u == "eps":
        return "per_share"
    if u.startswith("usd") or u.startswith("$") or u in ("dollars", "eur", "gbp"):
        return "money"
    if u in ("shares", "employees", "count"):
        return "count"
    return "number"


def _fact(index: FactIndex, fid: str) -> Known:
    k = index.get(fid)
    if k is None:
        raise UnknownFact(f"unknown fact id {fid!r}; pass the fact_id of a get_financial_data point")
    return k


def _source(k: Known) -> Source:
    return Source(document=k.document, concept=k.concept, context=k.context, period=k.period_label)


def _concepts(sources: list[Any], name: str | None) -> tuple[tuple[str, ...], bool]:
    cited = tuple(s.concept for s in sources if s is not None and getattr(s, "concept", None))
    if cited:
        return cited, True
    subject = subject_of(name or "", len(name or ""))
    return ((subject,) if subject else ((name,) if name else ())), False


def shown(value: float, kind: str, scale: float | None = None) -> str:
    """How a typed value reads in a reason: 412300000000 -> '$412.3B', 2.02 -> '2.02%'."""
    v = value * (scale or 1.0)
    if kind == "money":
        return format_value(v, "USD")
    if kind == "per_share":
        return f"${v:,.2f}"
    if kind == "percent":
        return f"{value:g}%"
    return f"{v:,g}"


def _check(index: FactIndex, value: float, *, kind: str, scales: tuple[float, ...], period: Period | None,
           concepts: tuple[str, ...], firm: bool, where: str, fact_id: str | None = None,
           signed: bool = True) -> NumberCheck:
    text = shown(value, kind, scales[0] if len(scales) == 1 else None)
    claim = Claim(value=value, tolerance=float_tolerance(value), kind=kind, text=text, period=period,
                  concepts=concepts, concept_firm=firm, scales=scales, where=where, signed=signed,
                  fact_ids=(fact_id,) if fact_id else ())
    result = check_claim(claim, index)
    if result.status == "unverified" and kind == "number" and not fact_id:
        alt = check_claim(replace(claim, kind="percent", scales=(1.0,)), index)
        if alt.status != "unverified":
            return alt
    return result


def verify_metric(spec: Any, index: FactIndex) -> tuple[Any, list[NumberCheck]]:
    """A MetricInput: fill value (and period, sources) from fact_id; check value and delta."""
    updates: dict[str, Any] = {}
    fid = getattr(spec, "fact_id", None)
    if fid:
        k = _fact(index, fid)
        updates["value"] = k.value
        if not spec.period and k.period_label:
            updates["period"] = k.period_label
        if not spec.sources:
            updates["sources"] = [_source(k)]
    spec = spec.model_copy(update=updates) if updates else spec
    period = parse_period(spec.period) or parse_period(spec.label)
    concepts, firm = _concepts(spec.sources, spec.label)
    kind = kind_of(spec.unit)
    checks = [_check(index, spec.value, kind=kind, scales=(1.0,), period=period, concepts=concepts, firm=firm,
                     where="value", fact_id=fid)]
    if spec.delta is not None:
        delta_kind = "percent" if spec.delta_unit == "percent" else kind
        checks.append(_check(index, spec.delta, kind=delta_kind, scales=(1.0,), period=period, concepts=concepts,
                             firm=False, where="delta"))
    return spec, checks


def verify_chart(spec: Any, index: FactIndex) -> tuple[Any, list[NumberCheck]]:
    """A ChartInput: fill series values from fact_ids; check every point in its x period."""
    stated = scale_of(spec.unit) or scale_of(spec.y_label)
    kind = kind_of(spec.unit) if spec.unit else ("percent" if "%" in (spec.y_label or "") else "number")
    if kind == "number" and stated:
        kind = "money" if "$" in (spec.unit or "") + (spec.y_label or "") or "usd" in ((spec.unit or "") + (spec.y_label or "")).lower() else kind
    scales = (stated,) if stated else ((1.0,) if kind == "percent" else INFERRED_SCALES)
    title_period = parse_period(spec.title)
    series = []
    checks: list[NumberCheck] = []
    for s in spec.series:
        ids = list(getattr(s, "fact_ids", None) or [])
        values = list(s.values) if s.values is not None else [None] * len(spec.x)
        sources = list(s.sources) if s.sources else None
        filled = False
        for i, fid in enumerate(ids):
            if fid:
                k = _fact(index, fid)
                values[i] = k.value / (stated or 1.0)
                filled = True
                if sources is None:
                    sources = [None] * len(values)
                if sources[i] is None:
                    sources[i] = _source(k)
        if filled or s.values is None:
            s = s.model_copy(update={"values": values, "sources": sources})
        series.append(s)
        for i, value in enumerate(values):
            if value is None:
                continue
            src = sources[i] if sources else None
            period = parse_period(spec.x[i]) or parse_period(getattr(src, "period", None)) or title_period
            concepts, firm = _concepts([src] if src else list(spec.sources), s.name)
            if not parse_period(spec.x[i]):
                concepts = concepts + (spec.x[i],)  # categories name the line item (a segment, a cost)
                firm = False
            checks.append(_check(index, value, kind=kind, scales=scales, period=period, concepts=concepts,
                                 firm=firm, where=f"{s.name} @ {spec.x[i]}",
                                 fact_id=ids[i] if i < len(ids) else None))
    spec = spec.model_copy(update={"series": series})
    return spec, checks


def verify_table(spec: Any, index: FactIndex) -> tuple[Any, list[NumberCheck]]:
    """A TableInput: fill cells from fact_ids; check every numeric cell against its row and column."""
    stated = scale_of(spec.unit_note)
    rows = [list(r) for r in spec.rows]
    ids = getattr(spec, "fact_ids", None) or []
    checks: list[NumberCheck] = []
    for r, row in enumerate(rows):
        for c in range(len(row)):
            fid = ids[r][c] if r < len(ids) and c < len(ids[r]) else None
            if fid:
                k = _fact(index, fid)
                column = spec.columns[c]
                row[c] = k.value if column.format == "percent" else k.value / (stated or 1.0)
    for r, row in enumerate(rows):
        label = str(row[0]) if row else ""
        for c, cell in enumerate(row):
            if isinstance(cell, bool) or not isinstance(cell, (int, float)):
                continue
            column = spec.columns[c]
            if column.format == "text":
                continue
            kind = {"currency": "money", "percent": "percent"}.get(column.format, "number")
            scales = (1.0,) if kind == "percent" else ((stated,) if stated else INFERRED_SCALES)
            column_period = parse_period(column.name)
            period = column_period or parse_period(label) or parse_period(spec.title)
            concept = label if column_period else column.name
            fid = ids[r][c] if r < len(ids) and c < len(ids[r]) else None
            checks.append(_check(index, float(cell), kind=kind, scales=scales, period=period,
                                 concepts=(concept,) if concept else (), firm=False,
                                 where=f"row {r + 1}, {column.name}", fact_id=fid))
    if ids:
        spec = spec.model_copy(update={"rows": rows})
    return spec, checks


def model_note(checks: list[NumberCheck]) -> list[str]:
    """What to tell the model about numbers that did not verify (so it can correct them)."""
    return [f"{c.where}: {c.reason}" for c in checks if c.status == "unverified"][:10]


def dump(checks: list[NumberCheck]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json", exclude_none=True) for c in checks]
