"""An answer's fact index: built once per answer, fed by each tool result, shared across answers
over the same stored filings."""

from __future__ import annotations

from datetime import date

from finstream.filings.model import Fact, Filing, Source
from finstream.tools.base import ToolContext
from finstream.verify.context import index_for


def stored(doc_id: str, value: float = 1.0) -> Filing:
    fact = Fact(concept="us-gaap:Revenues", label="Revenue", value=value, period_end=date(2024, 9, 28),
                period_start=date(2023, 10, 1), source=Source(document="a.htm", period="FY2024"))
    return Filing(document_id=doc_id, filename="a.htm", format="ixbrl", facts=[fact])


def test_one_index_per_answer_fed_by_tool_results():
    ctx = ToolContext(filings=[stored("d1")])
    first = index_for(ctx)
    assert index_for(ctx) is first and first.pool == []
    ctx.results.append(("get_financial_data", {"concept": "us-gaap:Revenues", "unit": "USD", "points": [
        {"period": "FY2024", "start": "2023-10-01", "end": "2024-09-28", "value": 1.0,
         "source": {"document": "a.htm", "concept": "us-gaap:Revenues", "period": "FY2024"}}]}))
    assert len(index_for(ctx).pool) == 1 and len(index_for(ctx).pool) == 1  # each result read once


def test_stored_filings_share_their_facts_across_answers_unsaved_ones_do_not():
    a, b = index_for(ToolContext(filings=[stored("d2")])), index_for(ToolContext(filings=[stored("d2")]))
    assert a is not b and a.filing_facts is b.filing_facts
    c, d = index_for(ToolContext(filings=[stored("")])), index_for(ToolContext(filings=[stored("")]))
    assert c.filing_facts is not d.filing_facts
