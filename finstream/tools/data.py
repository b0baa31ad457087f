"""Read-only data tools over the conversation's filings: what Claude (and the demo analyst) query.

Results are plain JSON and kept small (about 20 KB at most) so they fit the model's context; every
number and passage carries its source (filing, section/page/table, concept, period).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from finstream.filings.concepts import common_names
from finstream.filings.model import Filing, Source
from finstream.filings.search import index_for
from finstream.filings.series import SeriesNotFound, financial_series
from finstream.tools.base import Tool, ToolContext, ToolInputError, ToolOutcome
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
        description="annual = fiscal years (~12-month periods); quarterly = ~3-month periods; all = every period "
        "including 6- and 9-month year-to-date figures. Balance-sheet items are dated at period end.",
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


def _pick(filings: list[Filing], name: str | None) -> list[Filing]:
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


def _available_metrics(filing: Filing) -> list[str]:
    found = []
    for name in common_names():
        try:
            financial_series([filing], name, period_type="all", limit=1)
            found.append(name)
        except SeriesNotFound:
            continue
    return found


def list_filings(inp: ListFilingsInput, ctx: ToolContext) -> ToolOutcome:
    out = []
    for f in ctx.filings:
        out.append({
            **f.metadata(),
            "sections": [s.title for s in f.sections[:40]],
            "tables": [f"{i}: {t.title[:80]}" for i, t in enumerate(f.tables[:40])],
            "table_count": len(f.tables),
            "fact_count": len(f.facts),
            "metrics": _available_metrics(f),
            "warnings": f.warnings[:5],
        })
    return ToolOutcome(result=_fit({"filings": out}, "filings"))


def search_filing(inp: SearchFilingInput, ctx: ToolContext) -> ToolOutcome:
    hits = []
    for f in _pick(ctx.filings, inp.filing):
        for score, p in index_for(f).search(inp.query, inp.limit):
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
        raise ToolInputError(f"nothing in the filing text matches {inp.query!r}; try other words")
    return ToolOutcome(result=_fit({"query": inp.query, "results": results}, "results"))


def _company_keys(f: Filing) -> set[str]:
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
    filings = _pick(ctx.filings, inp.filing)
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
    filings = _pick(ctx.filings, inp.filing)
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


DATA_TOOLS: list[Tool] = [
    Tool(
        "list_filings",
        "List the filings uploaded to this conversation: company, form, fiscal period, section and "
        "table titles, and which common metrics each one has. Call it first when unsure what is loaded.",
        ListFilingsInput,
        list_filings,
    ),
    Tool(
        "search_filing",
        "Search the filings' text (MD&A, risk factors, notes, press release text, PDF pages) and return "
        "the best-matching passages with their section or page, for quoting and citing.",
        SearchFilingInput,
        search_filing,
    ),
    Tool(
        "get_financial_data",
        "Get one metric or XBRL concept across periods from the filings' reported facts, with unit and "
        "source per point, sorted by period end. Values are in units (USD, not millions). Use it for every "
        "number you chart or quote.",
        GetFinancialDataInput,
        get_financial_data,
    ),
    Tool(
        "get_table",
        "Get one table from a filing (financial statements, segment tables, press release tables) as "
        "columns and rows of cleaned numbers, by its index or by words from its title.",
        GetTableInput,
        get_table,
    ),
]
