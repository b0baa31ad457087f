"""get_segment_data: a metric broken down by segment, region or product, from dimensional facts.

XBRL tags a breakdown as the same concept with one dimension (axis = member), e.g. revenue with
``srt:ProductOrServiceAxis = aapl:IPhoneMember``. Members that are subtotals of other members on
the same axis (Apple's ``ProductMember`` = iPhone + Mac + iPad + Wearables) are left out, so the
parts add up to the total instead of counting it twice.
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from finstream.filings.concepts import find_metric
from finstream.filings.model import Fact, Filing
from finstream.filings.series import _period_ok
from finstream.tools.base import ToolContext, ToolInputError, ToolOutcome
from finstream.tools.compare import company_name

AXES = {
    "segment": ("us-gaap:StatementBusinessSegmentsAxis",),
    "geography": ("srt:StatementGeographicalAxis", "us-gaap:StatementGeographicalAxis"),
    "product": ("srt:ProductOrServiceAxis", "us-gaap:ProductOrServiceAxis"),
}
_COUNTRIES = {"US": "United States", "CN": "China", "JP": "Japan", "GB": "United Kingdom",
              "DE": "Germany", "CA": "Canada", "MX": "Mexico", "IE": "Ireland", "IN": "India",
              "FR": "France", "TW": "Taiwan", "KR": "South Korea", "NL": "Netherlands"}

_STANDARD = {
    "ReportableSegmentAggregationBeforeOtherOperatingSegmentMember": "Reportable segments",
    "AllOtherSegmentsMember": "All other segments", "ProductMember": "Products",
    "ServiceMember": "Services", "NonUsMember": "Outside the US", "OperatingSegmentsMember": "Operating segments",
    "CorporateNonSegmentMember": "Corporate", "IntersegmentEliminationMember": "Eliminations",
}


class GetSegmentDataInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field("revenue", min_length=1, max_length=200,
                        description="A common name (revenue, operating income, ...) or an XBRL concept.")
    breakdown: str = Field(
        "segment", max_length=200,
        description="segment (reportable segments), geography (countries/regions), product (products "
        "and services), or an exact XBRL axis such as 'srt:ProductOrServiceAxis'.",
    )
    filing: str | None = Field(None, description="File name of the filing; needed when several companies are loaded.")
    period_type: Literal["annual", "quarterly"] = Field("annual", description="annual = fiscal years; quarterly = ~3-month periods.")
    limit: int = Field(3, ge=1, le=10, description="Keep the most recent N periods.")


def member_label(member: str) -> str:
    """'aapl:IPhoneMember' -> 'iPhone'; 'aapl:GreaterChinaSegmentMember' -> 'Greater China'."""
    local = member.split(":", 1)[-1]
    if member.startswith("country:"):
        return _COUNTRIES.get(local, local)
    if member.startswith(("us-gaap:", "srt:")) and local in _STANDARD:
        return _STANDARD[local]
    local = re.sub(r"(Segment)?Member$", "", local)
    local = re.sub(r"^I(?=[A-Z][a-z])", "i", local)  # iPhone, iPad
    words = re.sub(r"(?<=[a-z0-9])(?<!^i)(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", local)
    words = re.sub(r"(?<=\w) (Of|And|The|In|For)\b", lambda m: " " + m.group(1).lower(), words)
    # Filers glue "and" to the word before it ("WearablesHomeandAccessories").
    return re.sub(r"(?<=[a-z]{3})and (?=[A-Z])", " and ", words).strip() or member


def _subtotals(values: dict[str, float]) -> set[str]:
    """Members whose value is the sum of two or more other members (subtotals)."""
    names = list(values)
    out = set()
    for m in names:
        others = [n for n in names if n != m and n not in out]
        if len(others) > 12:
            continue
        for size in range(2, len(others) + 1):
            if any(abs(sum(values[n] for n in combo) - values[m]) <= 0.001 * max(abs(values[m]), 1)
                   for combo in combinations(others, size)):
                out.add(m)
                break
    return out


def _concept_ok(metric: Any, name: str, fact: Fact) -> bool:
    if metric is not None:
        return fact.concept in metric.concepts
    return fact.concept.lower() == name.lower() or fact.concept.split(":")[-1].lower() == name.split(":")[-1].lower()


def segment_breakdown(filing: Filing, inp: GetSegmentDataInput) -> dict[str, Any]:
    metric = find_metric(inp.metric)
    axes = AXES.get(inp.breakdown.lower(), (inp.breakdown,))
    facts = [
        f for f in filing.facts
        if len(f.dimensions) == 1 and next(iter(f.dimensions)) in axes
        and _concept_ok(metric, inp.metric, f) and _period_ok(f, inp.period_type, False)
    ]
    if not facts:
        found = sorted({next(iter(f.dimensions)) for f in filing.facts if len(f.dimensions) == 1
                        and _concept_ok(metric, inp.metric, f)})
        hint = f"; it has {inp.metric} by {', '.join(found)}" if found else ""
        raise ToolInputError(f"{filing.filename} has no {inp.metric} by {inp.breakdown}{hint}")
    if metric is not None:  # the best-ranked concept the breakdown uses
        best = min(metric.concepts.index(f.concept) for f in facts)
        facts = [f for f in facts if f.concept == metric.concepts[best]]
    axis = next(iter(facts[0].dimensions))
    facts = [f for f in facts if next(iter(f.dimensions)) == axis]
    periods: dict[tuple, str] = {}
    cells: dict[tuple, dict[str, Fact]] = {}
    for f in facts:
        key = (f.period_start, f.period_end)
        periods[key] = f.source.period or f.period_end.isoformat()
        cells.setdefault(key, {})[f.dimensions[axis]] = f
    keys = sorted(periods, key=lambda k: k[1])[-inp.limit :]
    dropped: set[str] = set()
    for key in keys:
        dropped |= _subtotals({m: f.value for m, f in cells[key].items()})
    members = [m for m in dict.fromkeys(f.dimensions[axis] for f in facts) if m not in dropped]
    latest = cells[keys[-1]]
    members.sort(key=lambda m: -(latest[m].value if m in latest else 0))
    rows = []
    for m in members:
        points = []
        for key in keys:
            cell = cells[key].get(m)
            points.append(None if cell is None else {
                "period": periods[key], "end": cell.period_end.isoformat(), "value": cell.value,
                "source": cell.source.model_dump(exclude_none=True),
            })
        rows.append({"member": m, "label": member_label(m), "values": [p["value"] if p else None for p in points],
                     "points": points})
    label = metric.label if metric else facts[0].label
    return {
        "company": company_name(filing), "filing": filing.filename, "metric": label,
        "concept": facts[0].concept, "axis": axis, "unit": facts[0].unit,
        "periods": [periods[k] for k in keys], "members": rows,
        "left_out_as_subtotals": [member_label(m) for m in sorted(dropped)],
    }


def get_segment_data(inp: GetSegmentDataInput, ctx: ToolContext) -> ToolOutcome:
    from finstream.tools.data import _pick

    filings = _pick(ctx.filings, inp.filing)
    errors = []
    for f in reversed(filings):  # the latest upload first
        try:
            return ToolOutcome(result=segment_breakdown(f, inp))
        except ToolInputError as exc:
            errors.append(str(exc))
    raise ToolInputError("; ".join(errors))
