"""The metrics list_filings offers (series.available_metrics): the same names get_financial_data
finds, worked out once per filing content, and never served stale for a changed filing."""

from __future__ import annotations

import pytest

from finstream.filings.concepts import common_names
from finstream.filings.model import Fact, Filing
from finstream.filings.series import (
    SeriesNotFound,
    _metrics_of,
    available_metrics,
    financial_series,
)
from finstream.tools.base import ToolContext
from finstream.tools.data import ListFilingsInput, list_filings

SAMPLES = [
    "CIK0000320193.json",  # companyfacts, 12k facts
    "aapl-10-k-2024-11-01.html",  # inline XBRL
    "Financial_Report.xlsx",  # line items, not concepts
    "apple_consolidated.csv",
    "uber_2021.pdf",
    "BuckleInc.8-K.EX99.1.html",  # an earnings release
]
REVENUE = "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"


def found_by_series(filing: Filing) -> list[str]:
    """The names get_financial_data answers for, asked one by one."""
    found = []
    for name in common_names():
        try:
            financial_series([filing], name, period_type="all", limit=1)
        except SeriesNotFound:
            continue
        found.append(name)
    return found


def listed(filing: Filing) -> list[str]:
    outcome = list_filings(ListFilingsInput(), ToolContext(filings=[filing]))
    return outcome.result["filings"][0]["metrics"]


@pytest.mark.parametrize("name", SAMPLES)
def test_the_listed_metrics_are_the_ones_get_financial_data_finds(parsed, name):
    filing = parsed(name)
    expected = found_by_series(filing)
    assert expected, f"{name}: the sample should have some metric"
    assert available_metrics(filing) == expected
    assert listed(filing) == expected


def test_a_filing_read_again_is_answered_from_the_cache(parsed):
    filing = parsed("CIK0000320193.json")
    first = available_metrics(filing)
    again = Filing.model_validate_json(filing.model_dump_json())  # as the store gives it next turn
    hits = _metrics_of.cache_info().hits
    assert available_metrics(again) == first
    assert _metrics_of.cache_info().hits == hits + 1


def test_a_changed_filing_under_the_same_name_and_id_is_not_served_stale(parsed):
    filing = parsed("CIK0000320193.json").model_copy(update={"document_id": "doc-1"})
    assert "revenue" in listed(filing)
    # Uploaded again under the same name and id, without its revenue facts.
    without = filing.model_copy(update={"facts": [
        f for f in filing.facts if "Revenue" not in f.concept and "SalesRevenue" not in f.concept
    ]})
    assert "revenue" not in listed(without)
    assert listed(without) == found_by_series(without)
    # And the revenue comes back with the facts.
    assert "revenue" in listed(filing)


def test_only_undimensioned_facts_in_the_metrics_unit_count(parsed):
    facts = parsed("aapl-10-k-2024-11-01.html").facts
    revenue = next(f for f in facts if f.concept == REVENUE and not f.dimensions and f.fiscal_period == "FY")
    eps = next(f for f in facts if f.concept == "us-gaap:EarningsPerShareDiluted" and not f.dimensions)

    def alone(fact: Fact) -> Filing:
        return Filing(filename="one-fact.xml", format="xbrl", facts=[fact])

    assert available_metrics(alone(revenue)) == ["revenue"] == found_by_series(alone(revenue))
    assert available_metrics(alone(eps)) == ["eps"] == found_by_series(alone(eps))
    for changed in (
        revenue.model_copy(update={"dimensions": {"srt:ProductOrServiceAxis": "aapl:IPhoneMember"}}),
        eps.model_copy(update={"unit": "USD"}),  # per-share figures are in a currency per share
    ):
        assert available_metrics(alone(changed)) == [] == found_by_series(alone(changed))
