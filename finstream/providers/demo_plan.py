"""What the demo analyst looks up for a question, and the words it writes about the numbers.

Pure functions over tool results: no I/O, deterministic, testable on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
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
    intent: str  # trend | margins | growth | balance | compare | cash | text | segments
    metrics: list[str]
    period_type: str  # annual | quarterly
    # text: what to search for and in which sections; segments: which breakdown
    query: str = ""
    section: str | None = None
    breakdown: str = "segment"


# Questions about what a filing says: (pattern, search words, section title words).
_TEXT_TOPICS = [
    (r"\brisk", "risk factors could adversely affect business results", "risk factors"),
    (r"guidance|outlook|forecast|expects?\b|expectations", "outlook expects guidance future anticipate", None),
    (r"liquidity|capital resources", "liquidity capital resources cash requirements", None),
    (r"competi", "competition competitive pressure competitors", None),
    (r"legal|litigation|lawsuit", "legal proceedings litigation claims", None),
    (r"cyber", "cybersecurity threats risk management", "cybersecurity"),
    (r"segment", "reportable segments segment information", None),
    (r"employee|human capital|workforce", "employees human capital workforce", None),
]
_TEXT_ASK = re.compile(
    r"what does (the|its|their|\w+'s)? ?(filing|report|10-k|10-q|company|management|\w+) (say|said|disclose|mention)"
    r"|\bsay about\b|\bsays about\b|according to|\bdescribe|\bdiscuss|\bexplain|\bsummari[sz]e|"
    r"\bmention|tell me about|main risks|risk factors|\bguidance\b|\boutlook\b|\bliquidity\b"
)
_BREAKDOWN = [
    (r"geograph|by region|regions?\b|by country|countries", "geography"),
    (r"by product|products?\b and services|product line|by category", "product"),
    (r"segment", "segment"),
]


def _text_plan(q: str, period: str) -> Plan | None:
    if not _TEXT_ASK.search(q):
        return None
    for pattern, words, section in _TEXT_TOPICS:
        if re.search(pattern, q):
            return Plan("text", [], period, query=words, section=section)
    about = re.search(r"(?:about|on|regarding|of)\s+(.+?)[?.!]*$", q)
    topic = about.group(1) if about else q
    return Plan("text", [], period, query=topic[:200])


def plan_for(question: str) -> Plan:
    q = question.lower().replace("’", "'")
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
    text = _text_plan(q, period)
    if text is not None:
        return text
    if re.search(r"\bby (segment|region|geograph|country|product|business)|breakdown|broken down|\bmix\b|"
                 r"segment (revenue|sales)|segments\b", q):
        breakdown = next((b for pattern, b in _BREAKDOWN if re.search(pattern, q)), "segment")
        return Plan("segments", named[:1] or ["revenue"], period, breakdown=breakdown)
    if "margin" in q:
        return Plan("margins", ["revenue", "gross profit", "operating income", "net income"], period)
    if re.search(r"\bcash\b(?! flow)", q) and not re.search(r"balance|assets", q) and not (
        {"revenue", "net income"} & set(named)
    ):
        return Plan("cash", list(CASH_ITEMS), period)
    if re.search(r"balance|liquidity|assets|cash", q) and not ({"revenue", "net income"} & set(named)):
        return Plan("balance", ["total assets", "cash"], period)
    if re.search(r"grow|growth|yoy|year over year", q):
        return Plan("growth", named[:2] or ["revenue"], period)
    if re.search(r"compar|versus|\bvs\b", q):
        return Plan("compare", named[:3] or ["revenue", "net income"], period)
    return Plan("trend", named[:3] or ["revenue", "net income"], period)


# What a cash question looks up, each labelled as the balance sheet does.
CASH_ITEMS = {
    "cash": "Cash and cash equivalents",
    "us-gaap:MarketableSecuritiesCurrent": "Current marketable securities",
    "us-gaap:MarketableSecuritiesNoncurrent": "Non-current marketable securities",
}

# Words that look like names in a question but are not companies.
_NOT_NAMES = frozenset(
    """company company's filing filings report year quarter management it its firm business group
    segment segments fy cy eps usd gaap ceo cfo sec xbrl ttm yoy us q1 q2 q3 q4 ebit ebitda pdf csv html
    json xlsx ai it ok md&a mda r&d i the what how which who why when where is are was were do does did
    revenue revenues sales net income profit margin margins cash assets debt equity operating gross
    compare and vs versus with against between both each all 10-k 10-q 8-k today tomorrow show tell
    give plot chart list describe explain summarize summarise please can could would their our
    roe roa roi roic md fcf capex opex sg&a ytd qoq ltm ntm pe ev esg ipo m&a usa uk eu ir kpi arr
    arpu dau mau cogs pp&e ni ocf tam api cagr ifrs ebitda eur gbp jpy cny ttm rpo dso
    growth profitability expenses expense costs cost trend trends period periods quarters years
    region regions product products services shareholders dividends buybacks inventory guidance
    outlook risk risks liquidity earnings eps share shares stock performance results operations
    example instance now them this that these those us me you everything all""".split()
)


def name_candidates(question: str) -> list[str]:
    """Words of the question that name a company or a file: possessives ("Microsoft's"), names
    in a comparison ("Apple and Salesforce"), tickers (MSFT) and file names (uber_2021.pdf)."""
    out: list[str] = []
    q = question.replace("’", "'")
    out += re.findall(r"[\w.\-]+\.(?:pdf|html?|xhtml|xml|json|csv|xlsx?|txt)\b", q, re.I)
    for m in re.finditer(r"\b((?:[A-Z][\w&\-]*\s+)?[A-Za-z][\w&\-]*)'s?\b(?<=s)", q):
        name = m.group(1)
        if m.start() == 0 and " " in name:  # "Show Apple's": the first word is the sentence's
            name = name.split(None, 1)[1]
        out.append(name)
    if re.search(r"compar|versus|\bvs\b|against|between|\bboth\b", q, re.I):
        for m in re.finditer(r"(?:^|[\s,])([A-Z][\w&\-]*(?:\s+[A-Z][\w&\-]*)?)", q):
            out.append(m.group(1))
    out += re.findall(r"\b[A-Z]{2,5}\b", q)
    # A lone last word after "of/for/at/from" ("the revenue trend of wfc?") names whose figures.
    tail = re.search(r"\b(?:of|for|at|from)\s+([A-Za-z][\w&.\-]*)\s*[?.!]*\s*$", q)
    if tail and not re.search(r"\d", tail.group(1)):
        out.append(tail.group(1))
    seen, names = set(), []
    for raw in out:
        words = [w for w in raw.split() if w.lower() not in _NOT_NAMES]
        name = " ".join(words).strip(".,;:?!")
        if len(name) > 1 and name.lower() not in seen and name.lower() not in _NOT_NAMES:
            seen.add(name.lower())
            names.append(name)
    return names


@dataclass
class Series:
    metric: str
    label: str
    unit: str
    periods: list[str]
    values: list[float]
    sources: list[dict[str, Any]]
    ends: list[str | None] = field(default_factory=list)  # each period's end date (ISO), if known


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
        ends=[p.get("end") for p in points],
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
        steps = _steps(series, per)
        cagr = ((last / series.values[0]) ** (1 / steps) - 1) * 100
        text += (
            f" Across {series.periods[0]}–{period} it moved from {fv(series.values[0], series.unit)}, "
            f"a compound rate of {cagr:.1f}% a {per}."
        )
    return text


_DAYS_PER = {"year": 365.25, "quarter": 365.25 / 4}


def _steps(series: Series, per: str) -> int:
    """How many years (or quarters) lie between the first and the last period, from their end
    dates: a quarterly series may skip quarters (companyfacts reports no Q4), so Q3 FY2024 to
    Q1 FY2026 is 6 quarters though it has 5 points. The point count is the fallback."""
    first, last = (series.ends[0], series.ends[-1]) if series.ends else (None, None)
    try:
        days = (date.fromisoformat(str(last)[:10]) - date.fromisoformat(str(first)[:10])).days
    except ValueError:
        return len(series.values) - 1
    return max(1, round(days / _DAYS_PER.get(per, 365.25)))


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
