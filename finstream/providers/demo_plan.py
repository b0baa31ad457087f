"""What the demo analyst looks up for a question, and the words it writes about the numbers.

Pure functions over tool results: no I/O, deterministic, testable on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from finstream.filings.model import Source
from finstream.formatting import format_value

# Checked in order; the first metrics named in the question win.
_METRIC_WORDS = [
    ("gross profit", "gross profit"),
    ("gross margin", "gross profit"),
    ("operating income", "operating income"),
    ("operating margin", "operating income"),
    ("net income", "net income"),
    ("net loss", "net income"),
    ("profit", "net income"),
    ("earnings per share", "eps"),
    ("eps", "eps"),
    ("revenue", "revenue"),
    ("sales", "revenue"),
    ("total assets", "total assets"),
    ("cash", "cash"),
    ("assets", "total assets"),
]


@dataclass
class Plan:
    intent: str  # trend | margins | growth | balance | compare
    metrics: list[str]
    period_type: str  # annual | quarterly


def plan_for(question: str) -> Plan:
    q = question.lower()
    period = "quarterly" if re.search(r"\bquarter|\bq[1-4]\b|quarterly", q) else "annual"
    # Longer phrases claim their words first ("gross profit" is not also "profit"); the
    # metrics are then kept in the order the question names them.
    found: dict[str, int] = {}
    rest = q
    for word, metric in _METRIC_WORDS:
        for match in re.finditer(rf"\b{re.escape(word)}\b", rest):
            found.setdefault(metric, match.start())
            found[metric] = min(found[metric], match.start())
        rest = re.sub(rf"\b{re.escape(word)}\b", lambda m: " " * len(m.group()), rest)
    named = sorted(found, key=found.__getitem__)
    if "margin" in q:
        return Plan("margins", ["revenue", "gross profit", "operating income", "net income"], period)
    if re.search(r"balance|liquidity|assets|cash", q) and not ({"revenue", "net income"} & set(named)):
        return Plan("balance", ["total assets", "cash"], period)
    if re.search(r"grow|growth|yoy|year over year", q):
        return Plan("growth", named[:2] or ["revenue"], period)
    if re.search(r"compar|versus|\bvs\b", q):
        return Plan("compare", named[:3] or ["revenue", "net income"], period)
    return Plan("trend", named[:3] or ["revenue", "net income"], period)


@dataclass
class Series:
    metric: str
    label: str
    unit: str
    periods: list[str]
    values: list[float]
    sources: list[dict[str, Any]]


def series_from_result(metric: str, result: Any, limit: int = 5) -> Series | None:
    """The last ``limit`` points of a get_financial_data result, or None when it has none."""
    if not isinstance(result, dict) or not result.get("points"):
        return None
    points = [p for p in result["points"] if p.get("value") is not None][-limit:]
    if not points:
        return None
    fields = set(Source.model_fields)
    return Series(
        metric=metric,
        label=result.get("label") or metric.title(),
        unit=result.get("unit") or "USD",
        periods=[str(p.get("period") or p.get("end")) for p in points],
        values=[float(p["value"]) for p in points],
        sources=[{k: v for k, v in (p.get("source") or {}).items() if k in fields} for p in points],
    )


def pct_change(new: float, old: float) -> float | None:
    if old == 0:
        return None
    return (new - old) / abs(old) * 100.0


def _direction(change: float | None) -> str:
    if change is None:
        return "changed"
    return "up" if change >= 0 else "down"


def describe(series: Series, per: str = "year") -> str:
    """One or two sentences on a series: latest value, change, and the span."""
    fv = format_value
    last, period = series.values[-1], series.periods[-1]
    text = f"{series.label} was {fv(last, series.unit)} in {period}"
    if len(series.values) >= 2:
        prev = series.values[-2]
        change = pct_change(last, prev)
        if change is not None:
            text += (
                f", {_direction(change)} {abs(change):.1f}% from {fv(prev, series.unit)} "
                f"in {series.periods[-2]}"
            )
    text += "."
    if len(series.values) >= 3 and series.values[0] > 0 and last > 0:
        years = len(series.values) - 1
        cagr = ((last / series.values[0]) ** (1 / years) - 1) * 100
        text += (
            f" Across {series.periods[0]}–{period} it moved from {fv(series.values[0], series.unit)}, "
            f"a compound rate of {cagr:.1f}% a {per}."
        )
    return text


def margins(revenue: Series, other: Series) -> list[float | None]:
    """other / revenue in percent, matched by period label."""
    by_period = dict(zip(revenue.periods, revenue.values, strict=False))
    out: list[float | None] = []
    for period, value in zip(other.periods, other.values, strict=False):
        base = by_period.get(period)
        out.append(round(value / base * 100, 2) if base else None)
    return out


def join_words(items: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
