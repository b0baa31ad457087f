"""The checker on real filings, against the reference values in ../shared/filings/SOURCES.md:
a correct value verifies, a mistyped one and one cited for the wrong period do not (and say why),
and a growth rate or margin recomputed from two facts is derived."""

from __future__ import annotations

import pytest

from finstream.tools.base import ToolContext
from finstream.tools.data import (
    GetFinancialDataInput,
    SearchFilingInput,
    get_financial_data,
    search_filing,
)
from finstream.verify.check import Claim, check_claim
from finstream.verify.facts import FactIndex, id_of
from finstream.verify.numbers import find_numbers
from finstream.verify.periods import Period
from finstream.verify.text import check_text

AAPL_10K = "aapl-10-k-2024-11-01.html"


def answer_index(filing, *metrics: str, period_type: str = "annual") -> FactIndex:
    """The index an answer has after calling get_financial_data for each metric (the real tool)."""
    index = FactIndex([filing])
    for m in metrics:
        result = get_financial_data(GetFinancialDataInput(metric=m, period_type=period_type), ToolContext([filing]))
        index.add_tool_result("get_financial_data", result.result)
    return index


def claim(text: str, period: Period | None, *concepts: str) -> Claim:
    (w,) = find_numbers(text)
    return Claim(value=w.value, tolerance=w.tolerance, kind=w.kind, text=w.text, period=period,
                 concepts=concepts, direction=w.direction)


FY2023, FY2024 = Period("FY", 2023), Period("FY", 2024)


@pytest.fixture(scope="module")
def apple(filing):
    return answer_index(filing(AAPL_10K), "revenue", "gross profit", "net income")


def test_correct_revenue_verifies_with_its_fact(apple):
    result = check_claim(claim("$391.0B", FY2024, "revenue"), apple)
    assert result.status == "verified", result.reason
    (fact,) = result.facts
    assert fact.value == 391_035_000_000
    assert fact.concept == "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"
    assert fact.document == AAPL_10K and fact.period == "FY2024"
    assert fact.end == "2024-09-28" and fact.start == "2023-10-01"


@pytest.mark.parametrize("written", ["$391,035 million", "$391 billion", "$391,035,000,000", "$391.04B"])
def test_every_scale_of_the_same_revenue_verifies(apple, written):
    assert check_claim(claim(written, FY2024, "revenue"), apple).status == "verified"


def test_mistyped_revenue_is_unverified_and_names_the_right_value(apple):
    result = check_claim(claim("$412.3B", FY2024, "revenue"), apple)
    assert result.status == "unverified"
    assert "$391.0B" in result.reason and "FY2024" in result.reason
    assert result.facts[0].value == 391_035_000_000


def test_a_fy2023_figure_cited_for_fy2024_is_the_wrong_period(apple):
    result = check_claim(claim("$383.3B", FY2024, "revenue"), apple)
    assert result.status == "unverified"
    assert result.reason.startswith("wrong period") and "FY2023" in result.reason
    assert result.facts[0].value == 383_285_000_000 and result.facts[0].period == "FY2023"


def test_net_income_quoted_as_revenue_is_the_wrong_figure(apple):
    result = check_claim(claim("$93.7B", FY2024, "revenue"), apple)
    assert result.status == "unverified" and "wrong figure" in result.reason
    assert {f.value for f in result.facts} == {93_736_000_000, 391_035_000_000}


def test_growth_recomputed_from_two_facts_is_derived(apple):
    result = check_claim(claim("up 2.0%", None, "revenue"), apple)
    assert result.status == "derived" and result.formula == "growth", result.reason
    assert [f.value for f in result.facts] == [383_285_000_000, 391_035_000_000]
    wrong = check_claim(claim("up 2.4%", None, "revenue"), apple)
    assert wrong.status == "unverified"


def test_gross_margin_is_derived_from_gross_profit_over_revenue(apple):
    result = check_claim(claim("46.2%", FY2024, "gross profit"), apple)  # 180,683 / 391,035
    assert result.status == "derived" and result.formula == "margin", result.reason
    assert [f.value for f in result.facts] == [180_683_000_000, 391_035_000_000]
    assert check_claim(claim("46.2%", FY2023, "gross profit"), apple).status == "unverified"


def test_fact_ids_are_the_same_from_the_filing_and_from_the_tool(filing, apple):
    f = filing(AAPL_10K)
    result = get_financial_data(GetFinancialDataInput(metric="revenue"), ToolContext([f])).result
    point = next(p for p in result["points"] if p["period"] == "FY2024")
    fact = next(x for x in f.facts if x.concept.endswith("RevenueFromContractWithCustomerExcludingAssessedTax")
                and not x.dimensions and str(x.period_end) == "2024-09-28" and x.period_start
                and str(x.period_start) == "2023-10-01")
    assert point["fact_id"] == id_of(fact)
    assert apple.get(point["fact_id"]).value == 391_035_000_000
    by_id = check_claim(Claim(value=391_035_000_000, tolerance=0.5, kind="money", period=FY2024,
                              fact_ids=(point["fact_id"],)), apple)
    assert by_id.status == "verified"
    wrong_period = check_claim(Claim(value=391_035_000_000, tolerance=0.5, kind="money", period=FY2023,
                                     fact_ids=(point["fact_id"],)), apple)
    assert wrong_period.status == "unverified" and "wrong period" in wrong_period.reason


def test_a_paragraph_of_answer_text(apple):
    text = ("Revenue was $391.0B in FY2024, up 2.0% from $383.3B in FY2023. Gross margin was 46.2% "
            "in FY2024. Net income was $412.3B in FY2024. Revenue was $383.3B in FY2024.")
    checks = check_text(text, apple)
    assert [(c.text, c.status) for c in checks] == [
        ("$391.0B", "verified"), ("2.0%", "derived"), ("$383.3B", "verified"),
        ("46.2%", "derived"), ("$412.3B", "unverified"), ("$383.3B", "unverified"),
    ]
    assert "$93.7B" in checks[4].reason  # what FY2024 net income really is
    assert checks[5].reason.startswith("wrong period")
    assert [text[a:b] for a, b in (c.span for c in checks)] == [c.text for c in checks]


def test_quarter_and_half_year_of_a_10q(filing):
    index = answer_index(filing("aapl-20250329.htm"), "revenue", "eps", period_type="all")
    q2, h1 = Period("Q2", 2025), Period("H1", 2025)
    assert check_claim(claim("$95.4B", q2, "revenue"), index).status == "verified"
    assert check_claim(claim("$219.7B", h1, "revenue"), index).status == "verified"
    assert check_claim(claim("$1.65", q2, "eps"), index).status == "verified"
    six_months_as_quarter = check_claim(claim("$219.7B", q2, "revenue"), index)
    assert six_months_as_quarter.status == "unverified" and "H1 FY2025" in six_months_as_quarter.reason
    checks = check_text("Net sales were $95.4 billion in the second quarter of fiscal 2025, "
                        "up 5.1% from $90.8B in Q2 FY2024.", index)
    assert [c.status for c in checks] == ["verified", "derived", "verified"]


def test_a_net_loss_from_companyfacts(filing):
    index = answer_index(filing("snow_facts.json"), "net income", "revenue")
    checks = check_text("Snowflake's net loss was $1.29B in FY2025 on revenue of $3.63B in FY2025; "
                        "net income was -$1,285.6 million.", index)
    assert [c.status for c in checks] == ["verified", "verified", "verified"], [c.reason for c in checks]
    assert checks[0].facts[0].value == -1_285_640_000


def test_a_press_release_and_its_quoted_passages(filing):
    buckle = filing("BuckleInc.8-K.EX99.1.html")
    index = answer_index(buckle, "revenue", "net income", period_type="all")
    hits = search_filing(SearchFilingInput(query="net sales decreased percent", limit=3), ToolContext([buckle]))
    index.add_tool_result("search_filing", hits.result)
    checks = check_text("Net sales were $293.6 million for the quarter ended November 2, 2024, against "
                        "$303.5 million for the quarter ended October 28, 2023. Net sales for the 39-week "
                        "period decreased 4.6 percent to $838.5 million.", index)
    assert [c.status for c in checks] == ["verified", "verified", "verified", "verified"], [c.reason for c in checks]
    quoted = [k for k in index.pool if k.origin == "passage" and k.value == 838_500_000]
    assert quoted and quoted[0].period_label == "2024-11-02"  # the passage's own words date it
    series_only = answer_index(buckle, "revenue", period_type="all")
    swapped = check_text("Net sales were $303.5 million for the quarter ended November 2, 2024.", series_only)
    assert swapped[0].status == "unverified" and swapped[0].reason.startswith("wrong period")


def test_figures_read_from_a_printed_statement(filing):
    """get_table's income statement: columns dated "Years ended September 28,2024" are FY2024."""
    from finstream.tools.data import GetTableInput, get_table

    apple10k = filing(AAPL_10K)
    index = FactIndex([apple10k])
    table = get_table(GetTableInput(title="consolidated statements of operations"), ToolContext([apple10k]))
    index.add_tool_result("get_table", table.result)
    checks = check_text("Total net sales were $391,035 million in FY2024 and Services net sales $96,169 "
                        "million in FY2024; gross margin was 46.2% of net sales in FY2024. Services "
                        "net sales were $85,200 million in FY2024.", index)
    assert [c.status for c in checks] == ["verified", "verified", "derived", "unverified"], [c.reason for c in checks]
    assert checks[3].reason.startswith("wrong period") and "FY2023" in checks[3].reason


def test_a_chance_equality_with_a_fact_nobody_looked_up_is_no_evidence(apple):
    """R&D (31,370) was not fetched: it backs a number that names it, not a number that names nothing."""
    checks = check_text("Research and development was $31.4B in FY2024. The figure was $31.4B.", apple)
    assert [c.status for c in checks] == ["verified", "unverified"], [c.reason for c in checks]
    assert checks[0].facts[0].concept == "us-gaap:ResearchAndDevelopmentExpense"


CLAUDE_LIKE = """## Apple's FY2024 results

Apple's **total net sales were $391.0 billion** in fiscal 2024 (up 2.0% year over year from $383.3 billion in fiscal 2023).

Key figures:
- **Net income:** $93.7B (FY2024), down 3.4% from $97.0B
- **Gross margin:** 46.2% in FY2024, versus 44.1% in FY2023
- **Operating income:** $123.2 billion, an operating margin of 31.5%
- **Diluted EPS:** $6.08, compared with $6.13 a year earlier

| Metric | FY2023 | FY2024 | Change |
|---|---|---|---|
| Revenue | $383.3B | $391.0B | +2.0% |
| Net income | $97.0B | $93.7B | -3.4% |

Over FY2022–FY2024, revenue went from $394.3B to $391.0B, a compound annual rate of -0.4%.
"""


@pytest.fixture(scope="module")
def apple_answer(filing):
    return answer_index(filing(AAPL_10K), "revenue", "net income", "gross profit", "operating income", "eps")


def test_an_answer_written_like_claude_writes_them_checks_out(apple_answer):
    checks = check_text(CLAUDE_LIKE, apple_answer)
    assert len(checks) == 21
    assert [c.text for c in checks if c.status == "unverified"] == []
    assert {c.formula for c in checks if c.status == "derived"} == {"growth", "margin", "cagr"}


def test_the_same_answer_mistyped_is_marked_where_it_is_wrong(apple_answer):
    bad = (CLAUDE_LIKE.replace("$93.7B (FY2024)", "$97.0B (FY2024)").replace("46.2% in", "43.2% in")
           .replace("| $383.3B | $391.0B |", "| $383.3B | $412.3B |").replace("down 3.4%", "up 3.4%"))
    wrong = {c.text: c.reason for c in check_text(bad, apple_answer) if c.status == "unverified"}
    assert list(wrong) == ["$97.0B", "3.4%", "43.2%", "$412.3B"]
    assert wrong["$97.0B"] == "wrong period: $97.0B is Net income FY2023, not FY2024"
    assert wrong["3.4%"].startswith("wrong direction") and wrong["3.4%"].endswith("gives -3.4%")
    assert wrong["43.2%"].endswith("is 46.2%")
    assert wrong["$412.3B"] == "no fact equals $412.3B: Revenue FY2024 is $391.0B"


def test_growth_of_a_loss_is_measured_against_the_size_of_the_loss(filing):
    """Snowflake's net loss went from -$836.1M (FY2024) to -$1,285.6M (FY2025): -53.8%, not +53.8%."""
    index = answer_index(filing("snow_facts.json"), "net income")
    claim = Claim(value=-53.8, tolerance=0.05, kind="percent", signed=True, concepts=("net income",),
                  period=Period("FY", 2025))
    result = check_claim(claim, index)
    assert result.status == "derived" and result.formula == "growth", result.reason
    assert [f.value for f in result.facts] == [-836_097_000, -1_285_640_000]
    assert check_claim(Claim(value=53.8, tolerance=0.05, kind="percent", signed=True, concepts=("net income",),
                             period=Period("FY", 2025)), index).status == "unverified"


def test_a_period_named_after_a_comparison_word_is_not_the_numbers(apple_answer):
    checks = check_text("In FY2024 net income was $93.7B, compared with FY2023's $97.0B.", apple_answer)
    assert [c.status for c in checks] == ["verified", "verified"], [c.reason for c in checks]


def test_net_sales_is_revenue(apple_answer):
    (check,) = check_text("Net sales were $93.7B in FY2024.", apple_answer)
    assert check.status == "unverified" and "Revenue FY2024 is $391.0B" in check.reason


def test_a_six_month_column_of_a_10q_statement_is_h1(filing):
    from finstream.tools.data import GetTableInput, get_table

    tenq = filing("aapl-20250329.htm")
    index = FactIndex([tenq])
    table = get_table(GetTableInput(title="condensed consolidated statements of operations"), ToolContext([tenq]))
    index.add_tool_result("get_table", table.result)
    labels = {k.period_label for k in index.pool if k.origin == "table" and k.value == 219_659e6}
    assert labels == {"H1 FY2025"}, (table.result["columns"], labels)
    assert {k.period_label for k in index.pool if k.origin == "table" and k.value == 95_359e6} == {"Q2 FY2025"}
