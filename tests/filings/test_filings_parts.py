"""The small pure parts: number cleaning, period labels, concept names, the inspect command."""

from __future__ import annotations

import json
from datetime import date

import pytest

from finstream.filings.concepts import find_metric, label_matches
from finstream.filings.inspect import inspect_command
from finstream.filings.numbers import money_scale_from_header, parse_number, scale_from_text
from finstream.filings.periods import (
    FiscalCalendar,
    calendar_from_focus,
    duration_months,
    parse_date,
)
from finstream.samples import sample_paths


@pytest.mark.parametrize(
    "raw,value",
    [
        ("$1,234", 1234.0), ("(4)", -4.0), ("$ (4,863)", -4863.0), ("12.5%", 12.5), ("—", 0.0),
        ("–", 0.0), ("3.1*", 3.1), ("1,234[1]", 1234.0), ("(365,241", -365241.0), ("−7", -7.0),
        ("", None), ("n/a", None), ("Revenue", None), (None, None), (42, 42.0),
    ],
)
def test_parse_number(raw, value):
    assert parse_number(raw) == value


def test_scale_words():
    assert scale_from_text("(In millions, except per-share amounts)") == 6
    assert scale_from_text("Amounts in Thousands Except Per Share Amounts") == 3
    assert scale_from_text("Revenue by segment") == 0
    assert money_scale_from_header("STATEMENTS OF OPERATIONS - USD ($) shares in Thousands, $ in Millions") == 6
    assert money_scale_from_header("Cover Page - shares shares in Thousands") == 0


def test_period_labels_follow_the_fiscal_calendar():
    apple = calendar_from_focus(date(2025, 3, 29), 2025, "--09-28")
    assert apple.label(date(2024, 12, 29), date(2025, 3, 29)) == (2025, "Q2", "Q2 FY2025")
    assert apple.label(date(2024, 9, 29), date(2025, 3, 29))[2] == "H1 FY2025"
    assert apple.label(date(2023, 10, 1), date(2024, 9, 28))[2] == "FY2024"
    assert apple.label(None, date(2024, 9, 28))[2] == "FY2024"
    snow = FiscalCalendar(1, 31, 0)  # Snowflake's fiscal 2025 ends on 31 January 2025
    assert snow.label(date(2024, 2, 1), date(2025, 1, 31))[2] == "FY2025"
    unknown_year = FiscalCalendar(2, 1, 0, year_known=False)
    assert unknown_year.label(date(2024, 8, 4), date(2024, 11, 2))[2] == "Q3 ended 2024-11-02"


def test_dates_and_durations_in_headings():
    assert parse_date("Sep. 30, 2023") == date(2023, 9, 30)
    assert parse_date("Thirteen Weeks Ended November 2,2024") == date(2024, 11, 2)
    assert parse_date("no date here") is None
    assert duration_months("Thirteen Weeks Ended") == 3
    assert duration_months("6 Months Ended") == 6
    assert duration_months("Thirty-Nine Weeks Ended") == 9
    assert duration_months("Year Ended December 31,") == 12


def test_common_names_map_to_concepts_and_line_items():
    revenue = find_metric("Revenue").concepts
    # Totals before their parts: Walmart's total revenues (Revenues) include membership income
    # that revenue from contracts with customers leaves out.
    assert revenue.index("us-gaap:Revenues") < revenue.index("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax")
    assert "ifrs-full:Revenue" in revenue
    assert find_metric("net loss").name == "net income"
    assert find_metric("Diluted EPS").unit == "USD/shares"
    assert find_metric("warp drive") is None
    rev = find_metric("revenue")
    assert label_matches(rev, "Net sales") and label_matches(rev, "SALES, Net of returns and allowances")
    assert not label_matches(rev, "Cost of sales")
    assert label_matches(find_metric("operating income"), "Loss from operations")


def test_inspect_prints_metadata_sections_tables_and_key_facts(filings_dir, capsys):
    assert inspect_command(str(filings_dir / "aapl-20250329_htm.xml")) == 0
    out = capsys.readouterr().out
    assert "Apple Inc." in out and "Q2 FY2025" in out and "Key facts:" in out and "$95,359M" in out


def test_inspect_json_is_one_document(filings_dir, capsys):
    assert inspect_command(str(filings_dir / "apple_consolidated.csv"), as_json=True) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "csv" and doc["tables"][0]["rows"] == 19
    revenue = doc["key_facts"]["revenue"]
    assert revenue["points"][-1]["value"] == 383_285 and revenue["points"][-1]["source"]["document"]


def test_inspect_unreadable_file_fails_clearly(tmp_path, capsys):
    bad = tmp_path / "uber_2021.pdf"
    bad.write_bytes(b"%PDF-1.4 truncated")
    assert inspect_command(str(bad)) == 1
    err = capsys.readouterr().err
    assert err.startswith("uber_2021.pdf: ") and "PDF" in err
    assert inspect_command(str(tmp_path / "missing.pdf")) == 1
    assert "missing.pdf: cannot read file" in capsys.readouterr().err


def test_sample_filing_ships_and_ingests():
    from finstream.filings.ingest import ingest

    [path] = sample_paths()
    assert path.is_file() and path.suffix == ".json"
    filing = ingest(path.name, path.read_bytes())
    assert filing.company == "Apple Inc." and len(filing.facts) > 10_000


def test_companyconcept_json_is_read_like_companyfacts():
    from finstream.filings.ingest import ingest
    from finstream.filings.series import financial_series

    doc = {
        "cik": 320193, "taxonomy": "us-gaap", "tag": "NetIncomeLoss", "label": "Net Income (Loss)",
        "entityName": "Apple Inc.",
        "units": {"USD": [
            {"start": "2022-09-25", "end": "2023-09-30", "val": 96995000000, "accn": "0000320193-23-000106",
             "fy": 2023, "fp": "FY", "form": "10-K", "filed": "2023-11-03"},
            {"start": "2023-10-01", "end": "2024-09-28", "val": 93736000000, "accn": "0000320193-24-000123",
             "fy": 2024, "fp": "FY", "form": "10-K", "filed": "2024-11-01"},
        ]},
    }
    f = ingest("concept.json", json.dumps(doc).encode())
    points = financial_series([f], "net income")["points"]
    assert [(p["period"], p["value"]) for p in points] == [("FY2023", 96_995_000_000), ("FY2024", 93_736_000_000)]


def test_csv_scale_from_a_heading_cell():
    from finstream.filings.ingest import ingest

    data = b'Line item ($ in millions),"Dec. 31, 2024","Dec. 31, 2023"\nRevenue,"1,500",(20)\n'
    f = ingest("export.csv", data)
    values = {x.period_end.year: x.value for x in f.facts}
    assert values == {2024: 1_500_000_000, 2023: -20_000_000}
    assert not f.warnings and "millions" in f.tables[0].unit_note
