"""Known values (shared/filings/SOURCES.md) found in every format of the real filings."""

from __future__ import annotations

from datetime import date

import pytest

from finstream.filings.ingest import detect_format
from finstream.filings.series import financial_series

M = 1_000_000

FORMATS = {
    "aapl-10-k-2024-11-01.html": "ixbrl",
    "aapl-20250329.htm": "ixbrl",
    "aapl-20250329_htm.xml": "xbrl",
    "Financial_Report.xlsx": "xlsx",
    "apple_consolidated.csv": "csv",
    "CIK0000320193.json": "companyfacts",
    "snow_facts.json": "companyfacts",
    "BuckleInc.8-K.html": "ixbrl",
    "BuckleInc.8-K.EX99.1.html": "html",
    "uber_2021.pdf": "pdf",
}


@pytest.mark.parametrize("name,kind", sorted(FORMATS.items()))
def test_format_is_detected_from_the_bytes(filings_dir, name, kind):
    assert detect_format(name, (filings_dir / name).read_bytes()) == kind
    # The extension is only a hint: the same bytes under a misleading name give the same format.
    assert detect_format("upload.txt", (filings_dir / name).read_bytes()) == kind


def _fact(filing, concept, start, end):
    hits = [
        f for f in filing.facts
        if f.concept == concept and not f.dimensions and f.period_start == start and f.period_end == end
    ]
    assert hits, f"{concept} {start}..{end} not found"
    return hits[0]


def test_apple_10k_fy2024_income_statement_from_ixbrl(parsed):
    f = parsed("aapl-10-k-2024-11-01.html")
    start, end = date(2023, 10, 1), date(2024, 9, 28)
    expected = {
        "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax": 391_035 * M,
        "us-gaap:GrossProfit": 180_683 * M,
        "us-gaap:OperatingIncomeLoss": 123_216 * M,
        "us-gaap:NetIncomeLoss": 93_736 * M,
    }
    for concept, value in expected.items():
        fact = _fact(f, concept, start, end)
        assert fact.value == value
        assert fact.scale == 6 and fact.unit == "USD" and fact.fiscal_period == "FY"
        assert fact.source.period == "FY2024" and fact.source.context
        assert fact.source.section and "Item 8" in fact.source.section
        assert fact.source.table and "STATEMENTS OF OPERATIONS" in fact.source.table


def test_apple_10k_metadata_sections_and_tables(parsed):
    f = parsed("aapl-10-k-2024-11-01.html")
    assert (f.company, f.cik, f.ticker, f.form, f.fiscal_period) == ("Apple Inc.", "320193", "AAPL", "10-K", "FY2024")
    assert f.period_end == date(2024, 9, 28)
    titles = [s.title for s in f.sections]
    assert any(t.startswith("Part I, Item 1A. Risk Factors") for t in titles)
    mdna = next(s for s in f.sections if "Item 7." in s.title and "Management" in s.title)
    assert "iPhone" in mdna.text and len(mdna.text) > 5000
    assert len(titles) == len(set(titles))  # the table of contents does not duplicate sections
    ops = next(t for t in f.tables if "STATEMENTS OF OPERATIONS" in t.title)
    total = next(r for r in ops.rows if r[0] == "Total net sales")
    assert total[1:] == [391035.0, 383285.0, 394328.0]
    assert "2024" in ops.columns[1] and "millions" in (ops.unit_note or "").lower()


Q2_FY2025 = {  # $ millions: 3 months ended 2025-03-29 (and 6 months where given)
    "revenue": (95_359, 219_659),
    "gross profit": (44_867, 103_142),
    "operating income": (29_589, 72_421),
    "net income": (24_780, 61_110),
}


@pytest.mark.parametrize("name", ["aapl-20250329.htm", "aapl-20250329_htm.xml", "Financial_Report.xlsx"])
def test_apple_q2_fy2025_agrees_across_10q_html_xbrl_and_xlsx(parsed, name):
    f = parsed(name)
    assert f.company == "Apple Inc." and f.form == "10-Q" and f.fiscal_period == "Q2 FY2025"
    assert f.period_end == date(2025, 3, 29)
    for metric, (quarter, half) in Q2_FY2025.items():
        q = financial_series([f], metric, period_type="quarterly")
        last = q["points"][-1]
        assert (last["end"], last["period"], last["value"]) == ("2025-03-29", "Q2 FY2025", quarter * M), metric
        assert last["source"]["document"] == name
        every = financial_series([f], metric, period_type="all")
        halves = [p for p in every["points"] if p["end"] == "2025-03-29" and p["period"] == "H1 FY2025"]
        assert [p["value"] for p in halves] == [half * M], metric
    eps = financial_series([f], "eps", period_type="quarterly")
    assert eps["unit"] == "USD/shares" and eps["points"][-1]["value"] == 1.65


def test_apple_fy2023_from_csv_matches_companyfacts(parsed):
    csv_f = parsed("apple_consolidated.csv")
    facts_f = parsed("CIK0000320193.json")
    csv_rev = financial_series([csv_f], "revenue")["points"]
    assert [(p["period"], p["value"]) for p in csv_rev] == [
        ("FY2021", 365_817), ("FY2022", 394_328), ("FY2023", 383_285)
    ]
    assert financial_series([csv_f], "net income")["points"][-1]["value"] == 96_995
    assert csv_f.warnings  # no scale in the file: said, not guessed
    cf = {p["period"]: p["value"] for p in financial_series([facts_f], "revenue", limit=40)["points"]}
    assert cf["FY2023"] == 383_285 * M == csv_rev[-1]["value"] * M
    ni = {p["period"]: p["value"] for p in financial_series([facts_f], "net income", limit=40)["points"]}
    assert ni["FY2023"] == 96_995 * M


def test_snowflake_fy2025_loss_from_companyfacts(parsed):
    f = parsed("snow_facts.json")
    assert f.company == "SNOWFLAKE INC." and f.cik == "1640147"
    rev = financial_series([f], "revenue")["points"][-1]
    ni = financial_series([f], "net income")["points"][-1]
    assert (rev["period"], rev["end"], rev["value"]) == ("FY2025", "2025-01-31", 3_626_396_000)
    assert (ni["period"], ni["value"]) == ("FY2025", -1_285_640_000)
    assert "0001640147-25-000052" in ni["source"]["context"]


def test_buckle_quarter_from_press_release_tables(parsed):
    f = parsed("BuckleInc.8-K.EX99.1.html")
    assert f.company == "The Buckle, Inc." and f.form == "EX-99.1"
    sales = financial_series([f], "revenue", period_type="quarterly")["points"]
    assert [(p["end"], p["value"]) for p in sales] == [("2023-10-28", 303_457_000), ("2024-11-02", 293_618_000)]
    assert sales[-1]["period"].startswith("Q3")
    ni = financial_series([f], "net income", period_type="quarterly")["points"][-1]
    assert ni["value"] == 44_172_000 and round(ni["value"] / M, 1) == 44.2
    eps = financial_series([f], "basic eps", period_type="quarterly")["points"][-1]
    assert eps["value"] == 0.89
    assert ni["source"]["table"] and "Thirteen Weeks" in ni["source"]["context"]
    assert all("<" not in s.text for s in f.sections)  # no markup leaks into the text


def test_buckle_8k_cover_is_ixbrl_metadata(parsed):
    f = parsed("BuckleInc.8-K.html")
    assert f.form == "8-K" and f.cik == "885245"


def test_uber_figures_come_from_the_income_statement_not_the_mdna_table(parsed):
    f = parsed("uber_2021.pdf")
    assert f.form == "10-K" and f.period_end == date(2021, 12, 31) and len(f.sections) == 307
    assert f.company == "UBER TECHNOLOGIES, INC."
    # The MD&A results table on page 56 is still there to read, but its figures are not facts:
    # the consolidated statements of operations on page 77 are.
    mdna = next(t for t in f.tables if t.page == 56)
    assert any(r[0] == "Revenue" and 11_139 in r and 17_455 in r for r in mdna.rows)
    assert not [x for x in f.facts if x.source.page == 56]
    rev = financial_series([f], "revenue")["points"]
    assert [(p["period"], p["value"], p["source"]["page"]) for p in rev] == [
        ("FY2019", 13_000 * M, 77), ("FY2020", 11_139 * M, 77), ("FY2021", 17_455 * M, 77)
    ]
    ops = {p["period"]: p["value"] for p in financial_series([f], "operating income")["points"]}
    assert ops["FY2020"] == -4_863 * M and ops["FY2021"] == -3_834 * M
    assert "STATEMENTS OF OPERATIONS" in rev[-1]["source"]["table"]
    page = next(s for s in f.sections if s.page == 56)
    assert page.title.startswith("Page 56 · ITEM 7. MANAGEMENT")  # the Item the page belongs to


def test_companyfacts_periods_are_deduplicated_and_labelled_by_their_own_dates(parsed):
    f = parsed("CIK0000320193.json")
    keys = [(x.concept, x.unit, x.period_start, x.period_end) for x in f.facts]
    assert len(keys) == len(set(keys))
    rev = financial_series([f], "revenue", limit=40)["points"]
    ends = [p["end"] for p in rev]
    assert ends == sorted(ends) and len(set(ends)) == len(ends)
    fy24 = next(p for p in rev if p["period"] == "FY2024")
    assert (fy24["start"], fy24["end"], fy24["value"]) == ("2023-10-01", "2024-09-28", 391_035 * M)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_parsed_filing_survives_a_json_round_trip(parsed, name):
    # The store keeps the parsed form as JSON; nothing may be lost or fail to serialize.
    from finstream.filings.model import Filing

    f = parsed(name)
    again = Filing.model_validate_json(f.model_dump_json())
    assert again == f
    assert again.facts[:3] == f.facts[:3] and again.tables[:1] == f.tables[:1]
