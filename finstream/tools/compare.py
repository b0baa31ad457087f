"""compare_companies: one metric for several companies, one series each, periods aligned.

Each company's series comes from its own filings only (a series never mixes companies). Periods
are aligned by fiscal year (each company's own FY numbering, as its filings name them) or, on
request, calendarised: each fiscal year goes to the calendar year that holds most of its months
(the midpoint of the period), so Apple's FY2024 (Oct 2023 - Sep 2024) and Salesforce's FY2025
(Feb 2024 - Jan 2025) both land in CY2024. The result says which method was used and the real
start and end dates of every point, so nothing is hidden by the alignment.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from finstream.filings.model import Filing
from finstream.filings.series import SeriesNotFound, financial_series
from finstream.tools.base import ToolContext, ToolInputError, ToolOutcome

_FY = re.compile(r"\bFY\s?(\d{4})\b")


class CompareCompaniesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(
        min_length=1, max_length=200,
        description="A common name (revenue, net income, operating income, eps, total assets, cash, ...) "
        "or an XBRL concept such as 'us-gaap:NetIncomeLoss'.",
    )
    companies: list[str] | None = Field(
        None, max_length=10,
        description="Companies to compare, by name, ticker or file name (e.g. ['Apple', 'CRM']); "
        "omit to compare every company loaded.",
    )
    align: Literal["fiscal_year", "calendar_year"] = Field(
        "fiscal_year",
        description="fiscal_year: each company's own FY labels (FY2024 beside FY2024); calendar_year: "
        "each fiscal year placed in the calendar year holding most of its months (CY2024).",
    )
    limit: int = Field(5, ge=1, le=20, description="Keep the most recent N aligned years.")


class CompanyFile(Protocol):
    """What naming and grouping read of a filing: a parsed Filing, or a list_filings entry as the
    demo analyst knows it (finstream/providers/demo_listing.py)."""

    @property
    def filename(self) -> str: ...
    @property
    def company(self) -> str | None: ...
    @property
    def cik(self) -> str | None: ...
    @property
    def ticker(self) -> str | None: ...


FileT = TypeVar("FileT", bound=CompanyFile)


def company_name(filing: CompanyFile) -> str:
    """The name shown on series, tiles and columns: the filing's company, else its file name."""
    return (filing.company or "").strip() or filing.filename


def _keys(f: CompanyFile) -> set[str]:
    from finstream.tools.data import _company_keys

    return _company_keys(f)


def group_by_company(filings: list[FileT]) -> list[tuple[str, list[FileT]]]:
    """Filings grouped by company (CIK or name), in upload order of each company's first filing."""
    groups: list[tuple[set[str], list[FileT]]] = []
    for f in filings:
        keys = _keys(f)
        home = next((g for g in groups if keys and keys & g[0]), None)
        if home is None:
            groups.append((set(keys), [f]))
        else:
            home[0].update(keys)
            home[1].append(f)
    return [(company_name(fs[0]), fs) for _k, fs in groups]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def mentions(filing: CompanyFile, text: str) -> bool:
    """Whether ``text`` names this filing's company (name, ticker) or file."""
    low = text.lower()
    words = _words(text)
    if filing.filename.lower() in low or filing.filename.rsplit(".", 1)[0].lower() in low:
        return True
    if filing.ticker and filing.ticker.lower() in words:
        return True
    key = " ".join(w for w in re.findall(r"[a-z0-9]+", (filing.company or "").lower())
                   if w not in {"the", "inc", "corp", "corporation", "co", "ltd", "plc", "company"})
    if not key:
        return False
    if re.search(rf"\b{re.escape(key)}\b", low):
        return True
    first = key.split()[0]
    return len(first) >= 4 and first in words


def pick_companies(filings: list[Filing], names: list[str] | None) -> list[tuple[str, list[Filing]]]:
    groups = group_by_company(filings)
    if not names:
        return groups
    chosen: list[tuple[str, list[Filing]]] = []
    missing = []
    for name in names:
        hit = next((g for g in groups if any(mentions(f, name) for f in g[1])), None)
        if hit is None:
            missing.append(name)
        elif hit not in chosen:
            chosen.append(hit)
    if missing:
        loaded = "; ".join(f"{n} ({', '.join(f.filename for f in fs)})" for n, fs in groups)
        raise ToolInputError(
            f"no filing of {', '.join(repr(m) for m in missing)} is loaded (loaded: {loaded}); "
            "ask the user to upload that company's 10-K or 10-Q"
        )
    return chosen


def _fiscal_year(point: dict[str, Any]) -> int:
    m = _FY.search(str(point.get("period") or ""))
    if m:
        return int(m.group(1))
    return date.fromisoformat(point["end"]).year


def _calendar_year(point: dict[str, Any]) -> int:
    end = date.fromisoformat(point["end"])
    start = date.fromisoformat(point["start"]) if point.get("start") else end
    return date.fromordinal((start.toordinal() + end.toordinal()) // 2).year


def compare_companies(inp: CompareCompaniesInput, ctx: ToolContext) -> ToolOutcome:
    if not ctx.filings:
        raise ToolInputError("no filings are loaded in this conversation; ask the user to upload one")
    groups = pick_companies(ctx.filings, inp.companies)
    key, prefix = (_fiscal_year, "FY") if inp.align == "fiscal_year" else (_calendar_year, "CY")
    series, missing = [], []
    label, unit = None, None
    for company, filings in groups:
        try:
            result = financial_series(filings, inp.metric, period_type="annual", limit=40)
        except SeriesNotFound as exc:
            missing.append({"company": company, "reason": str(exc)})
            continue
        if unit is not None and result["unit"] != unit:
            missing.append({"company": company, "reason": f"reported in {result['unit']}, not {unit}"})
            continue
        label, unit = label or result["label"], unit or result["unit"]
        by_year: dict[int, dict[str, Any]] = {}
        for p in result["points"]:
            by_year[key(p)] = p  # later periods win (points are sorted by end date)
        series.append({"company": company, "filings": [f.filename for f in filings],
                       "concept": result["concept"], "by_year": by_year})
    if not series:
        reasons = "; ".join(f"{m['company']}: {m['reason']}" for m in missing)
        raise ToolInputError(f"no company has {inp.metric!r} figures ({reasons})")
    years = sorted({y for s in series for y in s["by_year"]})[-inp.limit :]
    periods = [f"{prefix}{y}" for y in years]
    out = []
    for s in series:
        points = []
        for y, period in zip(years, periods, strict=True):
            p = s["by_year"].get(y)
            points.append(None if p is None else {
                "period": period, "reported_as": p["period"], "start": p["start"], "end": p["end"],
                "value": p["value"], "source": p["source"],
            })
        out.append({"company": s["company"], "filings": s["filings"], "concept": s["concept"],
                    "values": [p["value"] if p else None for p in points], "points": points})
    result = {
        "metric": inp.metric, "label": label, "unit": unit, "align": inp.align,
        "method": "each company's fiscal years as its filings number them" if inp.align == "fiscal_year"
        else "each fiscal year placed in the calendar year holding most of its months",
        "periods": periods, "series": out, "missing": missing,
    }
    return ToolOutcome(result=result)
