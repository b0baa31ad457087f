"""Read-only data tools over the conversation's filings: what Claude (and the demo analyst) query.

Results are plain JSON and kept small (about 20 KB at most) so they fit the model's context; every
number and passage carries its source (filing, section/page/table, concept, period).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from finstream.filings.model import Filing, Source
from finstream.filings.search import index_for
from finstream.filings.series import SeriesNotFound, available_metrics, financial_series
from finstream.tools.base import Tool, ToolContext, ToolInputError, ToolOutcome
from finstream.tools.compare import CompanyFile, CompareCompaniesInput, compare_companies
from finstream.tools.segments import GetSegmentDataInput, get_segment_data
from finstream.verify.facts import add_fact_ids

MAX_RESULT_CHARS = 20_000
PASSAGE_CHARS = 700


class ListFilingsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchFilingInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1, max_length=500,
        description="Words to look for, e.g. 'iPhone net sales decrease' or 'driver classification risk'.",
    )
    filing: str | None = Field(
        None, description="File name of one filing (from list_filings); omit to search all filings."
    )
    limit: int = Field(5, ge=1, le=10, description="How many passages to return, best first.")
    section: str | None = Field(
        None, max_length=200,
        description="Only passages from sections whose title holds these words, e.g. 'risk factors' "
        "or 'management's discussion'; omit to search every section.",
    )


class GetFinancialDataInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(
        min_length=1, max_length=200,
        description=(
            "A common name (revenue, gross profit, operating income, net income, eps, basic eps, "
            "total assets, cash, total liabilities, equity, cost of revenue, operating expenses, "
            "research and development, operating cash flow, long-term debt) or an exact XBRL concept "
            "such as 'us-gaap:NetIncomeLoss'."
        ),
    )
    filing: str | None = Field(
        None,
        description="File name of one filing (from list_filings); omit to combine all filings of the "
        "first company listed (series never mix companies).",
    )
    period_type: Literal["annual", "quarterly", "all"] = Field(
        "annual",
        description="annual = fiscal years (balances at fiscal year ends); quarterly = three-month quarters "
        "(balances at quarter ends; a Q4 no filing reports is derived as FY minus 9M and marked derived); "
        "all = every period, including year-to-date figures labelled H1 (six months) and 9M (nine months).",
    )
    limit: int = Field(8, ge=1, le=40, description="Keep the most recent N periods.")


class GetTableInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filing: str | None = Field(None, description="File name of the filing; needed when several are loaded.")
    index: int | None = Field(None, ge=0, description="0-based table number within the filing (see list_filings).")
    title: str | None = Field(
        None, max_length=300,
        description="Words from the table's title or rows, e.g. 'statements of operations' or 'balance sheet'.",
    )
    max_rows: int = Field(60, ge=1, le=200, description="Return at most this many rows.")


def _failed_note(name: str, failed: list[dict[str, str]]) -> str | None:
    low = name.lower()
    for item in failed:
        fname = str(item.get("filename", ""))
        if low == fname.lower() or low in fname.lower():
            return f"{fname} was uploaded but could not be read ({item.get('error')}); ask for a readable copy"
    return None


def _pick(filings: list[Filing], name: str | None, failed: list[dict[str, str]] | None = None) -> list[Filing]:
    if name is not None and (note := _failed_note(name, failed or [])):
        if not any(f.filename.lower() == name.lower() for f in filings):
            raise ToolInputError(note)
    if not filings:
        raise ToolInputError("no filings are loaded in this conversation; ask the user to upload one")
    if name is None:
        return filings
    low = name.lower()
    exact = [f for f in filings if f.filename.lower() == low or f.document_id == name]
    if exact:
        return exact
    partial = [f for f in filings if low in f.filename.lower()]
    if partial:
        return partial[:1]
    raise ToolInputError(f"no filing named {name!r}; loaded: {', '.join(f.filename for f in filings)}")


def period_types(filing: Filing) -> list[str]:
    """Which get_financial_data period_type the filing's reported figures answer: annual (fiscal
    years), quarterly (three-month quarters), or both."""
    periods = {f.fiscal_period for f in filing.facts if f.period_start is not None}
    kinds = ["annual"] if "FY" in periods else []
    return kinds + (["quarterly"] if any(str(p).startswith("Q") for p in periods) else [])


def list_filings(inp: ListFilingsInput, ctx: ToolContext) -> ToolOutcome:
    out = []
    for f in ctx.filings:
        out.append({
            **f.metadata(),
            "sections": [s.title for s in f.sections[:40]],
            "tables": [f"{i}: {t.title[:80]}" for i, t in enumerate(f.tables[:40])],
            "table_count": len(f.tables),
            "fact_count": len(f.facts),
            "metrics": available_metrics(f),
            "period_types": period_types(f),
            # How periods are labelled (FY2024, Q2 FY2025, H1/9M = year to date) for this filing.
            "fiscal_calendar": f.calendar.description if f.calendar else None,
            "warnings": f.warnings[:5],
        })
    failed = [{"filename": d["filename"], "error": d["error"]} for d in ctx.failed]
    result: dict[str, Any] = {"filings": out, "failed": failed}
    # Many filings: fewer section and table titles each, before any filing is left out.
    for keep in (20, 10, 5, 0):
        if len(json.dumps(result, default=str)) <= MAX_RESULT_CHARS:
            break
        for item in out:
            item["sections"], item["tables"] = item["sections"][:keep], item["tables"][:keep]
    return ToolOutcome(result=_fit(result, "filings"))


def search_filing(inp: SearchFilingInput, ctx: ToolContext) -> ToolOutcome:
    hits = []
    wanted = set(re.findall(r"[a-z0-9]+", (inp.section or "").lower().replace("’", "'")))
    for f in _pick(ctx.filings, inp.filing, ctx.failed):
        index = index_for(f)
        found = index.search(inp.query, len(index.passages) if wanted else inp.limit)
        if wanted:
            found = [(score, p) for score, p in found
                     if wanted <= set(re.findall(r"[a-z0-9]+", p.section.lower().replace("’", "'")))]
        for score, p in found[: inp.limit]:
            hits.append((score, f.filename, p))
    hits.sort(key=lambda h: -h[0])
    results = [
        {
            "filing": name,
            "section": p.section,
            "page": p.page,
            "score": round(score, 2),
            "text": p.text[:PASSAGE_CHARS] + ("…" if len(p.text) > PASSAGE_CHARS else ""),
            "source": Source(document=name, section=p.section, page=p.page).model_dump(exclude_none=True),
        }
        for score, name, p in hits[: inp.limit]
    ]
    if not results:
        where = f" in sections titled {inp.section!r}" if inp.section else ""
        if not any(f.sections for f in _pick(ctx.filings, inp.filing, ctx.failed)):
            raise ToolInputError(
                "these filings carry no text to search (figures only, e.g. SEC companyfacts); "
                "ask the user to upload the 10-K or 10-Q document"
            )
        raise ToolInputError(f"nothing in the filing text matches {inp.query!r}{where}; try other words")
    return ToolOutcome(result=_fit({"query": inp.query, "results": results}, "results"))


def _company_keys(f: CompanyFile) -> set[str]:
    keys = set()
    if f.cik:
        keys.add(f"cik:{f.cik.lstrip('0')}")
    if f.company:
        words = re.findall(r"[a-z0-9]+", f.company.lower())
        keys.add(" ".join(w for w in words if w not in {"the", "inc", "corp", "corporation", "co", "ltd", "plc"}))
    return keys


def _one_company(filings: list[Filing]) -> list[Filing]:
    """Without a named filing, a series never mixes companies: the first company listed wins.

    Filings match on CIK or on name; one that carries both links the two. Filings that name no
    company (a bare CSV export) are kept.
    """
    keyed = [(_company_keys(f), f) for f in filings]
    same = next((k for k, _f in keyed if k), set())
    if not same:
        return filings
    for _ in range(2):  # a second pass picks up links found in the first
        for keys, _f in keyed:
            if keys & same:
                same |= keys
    return [f for keys, f in keyed if not keys or keys & same]


def get_financial_data(inp: GetFinancialDataInput, ctx: ToolContext) -> ToolOutcome:
    filings = _pick(ctx.filings, inp.filing, ctx.failed)
    if inp.filing is None:
        filings = _one_company(filings)
    try:
        result = financial_series(filings, inp.metric, period_type=inp.period_type, limit=inp.limit)
    except SeriesNotFound as exc:
        raise ToolInputError(str(exc)) from None
    add_fact_ids(result)  # each point's fact_id: output tools take it instead of a typed value
    return ToolOutcome(result=_fit(result, "points"))


def _table_score(query: str, title: str, rows: list[list[Any]]) -> int:
    words = set(re.findall(r"[a-z0-9]+", query.lower()))
    head = set(re.findall(r"[a-z0-9]+", title.lower()))
    body = set(re.findall(r"[a-z0-9]+", " ".join(str(r[0]) for r in rows[:40]).lower()))
    return 3 * len(words & head) + len(words & body)


def get_table(inp: GetTableInput, ctx: ToolContext) -> ToolOutcome:
    filings = _pick(ctx.filings, inp.filing, ctx.failed)
    if inp.index is not None:
        if len(filings) > 1:
            raise ToolInputError(
                f"several filings are loaded; name one with 'filing': {', '.join(f.filename for f in filings)}"
            )
        f = filings[0]
        if inp.index >= len(f.tables):
            raise ToolInputError(f"{f.filename} has {len(f.tables)} tables (index 0-{len(f.tables) - 1})")
        idx = inp.index
    elif inp.title:
        scored = [
            (_table_score(inp.title, t.title, t.rows), -fi, -i, fi, i)
            for fi, f in enumerate(filings)
            for i, t in enumerate(f.tables)
        ]
        best = max(scored, default=None)
        if best is None or best[0] == 0:
            raise ToolInputError(f"no table matches {inp.title!r}; list_filings shows the table titles")
        f, idx = filings[best[3]], best[4]
    else:
        raise ToolInputError("give 'index' (a table number) or 'title' (words from the table's title)")
    table = f.tables[idx]
    rows = table.rows[: inp.max_rows]
    result = {
        "filing": f.filename,
        "index": idx,
        "title": table.title,
        "columns": table.columns,
        "rows": rows,
        "unit_note": table.unit_note,
        "truncated": len(table.rows) > len(rows),
        "source": Source(document=f.filename, section=table.section, page=table.page, table=table.title).model_dump(
            exclude_none=True
        ),
    }
    return ToolOutcome(result=_fit(result, "rows"))


def _fit(result: dict[str, Any], key: str) -> dict[str, Any]:
    """Drop items of result[key] from the end until the JSON is under MAX_RESULT_CHARS."""
    items = result.get(key)
    while isinstance(items, list) and items and len(json.dumps(result, default=str)) > MAX_RESULT_CHARS:
        # Series keep their latest points (drop the oldest); lists keep their best (drop the last).
        del items[0 if key == "points" else -1]
        result["truncated"] = True
    return result


DATA_TOOLS: list[Tool[Any]] = [
    Tool(
        "list_filings",
        "List the filings uploaded to this conversation: company, form, fiscal period, section and "
        "table titles, and which common metrics each one has; also the uploads that failed to be read, "
        "with the reason. Call it first when unsure what is loaded.",
        ListFilingsInput,
        list_filings,
        progress="Listing the filings",
    ),
    Tool(
        "search_filing",
        "Search the filings' text (MD&A, risk factors, notes, press release text, PDF pages) and return "
        "the best-matching passages with their section or page, for quoting and citing.",
        SearchFilingInput,
        search_filing,
        progress="Searching the filing text",
    ),
    Tool(
        "get_financial_data",
        "Get one metric or XBRL concept across periods from the filings' reported facts, with unit and "
        "source per point, sorted by period end. Values are in units (USD, not millions). Use it for every "
        "number you chart or quote.",
        GetFinancialDataInput,
        get_financial_data,
        progress="Reading reported figures",
    ),
    Tool(
        "get_table",
        "Get one table from a filing (financial statements, segment tables, press release tables) as "
        "columns and rows of cleaned numbers, by its index or by words from its title.",
        GetTableInput,
        get_table,
        progress="Reading a table",
    ),
    Tool(
        "compare_companies",
        "Compare one metric across companies: one series per company (from that company's filings "
        "only), periods aligned by fiscal year or calendarised, with the company name, real period dates "
        "and source of every point. Use it whenever a question names two or more companies.",
        CompareCompaniesInput,
        compare_companies,
        progress="Comparing the companies",
    ),
    Tool(
        "get_segment_data",
        "Get a metric (default revenue) broken down by reportable segment, geography or product from "
        "the filing's dimensional XBRL facts: one row per member, per period, with sources. Subtotal "
        "members are left out so the parts add up.",
        GetSegmentDataInput,
        get_segment_data,
        progress="Reading segment figures",
    ),
]
