"""``python -m finstream inspect PATH [--json]``: what finstream understood of one file."""

from __future__ import annotations

import json
import sys
from typing import Any

from finstream.filings.ingest import ingest_path
from finstream.filings.model import Filing, FilingError
from finstream.filings.series import SeriesNotFound, financial_series

KEY_METRICS = ("revenue", "gross profit", "operating income", "net income", "eps", "total assets", "cash")


def key_facts(filing: Filing, limit: int = 6) -> dict[str, Any]:
    """Each key metric's most recent periods (annual if any, else every period), with sources."""
    out: dict[str, Any] = {}
    for name in KEY_METRICS:
        for period_type in ("annual", "quarterly", "all"):
            try:
                out[name] = financial_series([filing], name, period_type=period_type, limit=limit)
                out[name]["period_type"] = period_type
                break
            except SeriesNotFound:
                continue
    return out


def summary(filing: Filing) -> dict[str, Any]:
    return {
        **filing.metadata(),
        "sections": [{"title": s.title, "page": s.page, "chars": len(s.text)} for s in filing.sections],
        "tables": [
            {"index": i, "title": t.title, "rows": len(t.rows), "columns": t.columns, "page": t.page, "section": t.section}
            for i, t in enumerate(filing.tables)
        ],
        "fact_count": len(filing.facts),
        "calendar": filing.calendar.model_dump() if filing.calendar else None,
        "key_facts": key_facts(filing),
        "warnings": filing.warnings,
    }


def _money(value: float, unit: str) -> str:
    if unit == "USD":
        return f"${value / 1e6:,.0f}M" if abs(value) >= 1e6 else f"${value:,.0f}"
    if unit == "USD/shares":
        return f"${value:,.2f}/share"
    return f"{value:,.2f} {unit}"


def _print_text(s: dict[str, Any]) -> None:
    p = print
    p(f"{s['filename']}  ({s['format']})")
    for key in ("company", "cik", "ticker", "form", "fiscal_period", "period_end", "filing_date"):
        if s[key]:
            p(f"  {key.replace('_', ' ')}: {s[key]}")
    cal = s.get("calendar")
    if cal:
        p(f"  calendar: {cal['description']} (from {cal['source']})")
    else:
        p("  calendar: not stated; periods are named by their end dates")
    sections = s["sections"]
    p(f"\nSections ({len(sections)}):")
    for sec in sections[:40]:
        where = f"p.{sec['page']}  " if sec["page"] else ""
        p(f"  {where}{sec['title'][:90]}  [{sec['chars']:,} chars]")
    if len(sections) > 40:
        p(f"  … {len(sections) - 40} more")
    p(f"\nTables ({len(s['tables'])}):")
    for t in s["tables"][:40]:
        where = f"p.{t['page']} " if t["page"] else ""
        p(f"  [{t['index']}] {where}{t['title'][:90]}  ({t['rows']} rows)")
    if len(s["tables"]) > 40:
        p(f"  … {len(s['tables']) - 40} more")
    p(f"\nFacts: {s['fact_count']:,}")
    p("\nKey facts:")
    if not s["key_facts"]:
        p("  none found")
    for series in s["key_facts"].values():
        p(f"  {series['label']} ({series['concept']}, {series['unit']}, {series['period_type']}):")
        for pt in series["points"]:
            src = pt["source"]
            where = ", ".join(
                str(x) for x in (src.get("section"), f"p.{src['page']}" if src.get("page") else None,
                                 src.get("table"), src.get("context")) if x
            )
            derived = "  (derived: " + " minus ".join(x.get("period", "?") for x in pt["derived_from"]) + ")" if pt.get(
                "derived") else ""
            p(f"    {pt['period']:<22} {_money(pt['value'], series['unit']):>16}   {where[:110]}{derived}")
    for w in s["warnings"]:
        p(f"\nwarning: {w}")


def inspect_command(path: str, as_json: bool = False) -> int:
    """Print what was understood of a file; 1 with a clear message on stderr if it cannot be read."""
    try:
        filing = ingest_path(path)
    except FilingError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    s = summary(filing)
    if as_json:
        print(json.dumps(s, default=str, ensure_ascii=False))
    else:
        _print_text(s)
    return 0
