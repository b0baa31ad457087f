"""Primary statements read from page text: titles, scale, column periods, rows (pdf_statements.py).

The pages below are written the way EDGAR's PDF renderers lay statements out (one line per line
item, the values at the end); the expectations follow from what each heading says.
"""

from __future__ import annotations

from datetime import date

from finstream.filings.model import Filing
from finstream.filings.pdf import add_statement_facts
from finstream.filings.pdf_statements import find_statements, release_company, release_quarter
from finstream.filings.series import financial_series

TEN_Q = """Example Corp
CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS
(in thousands, except share and per share data)
(Unaudited)
Three Months Ended September 30, Nine Months Ended September 30,
2023 2022 2023 2022
Revenue $ 120,500 $ 100,250 $ 350,000 $ 290,100
Cost of revenue 60,000 50,000 170,000 150,000
Gross profit 60,500 50,250 180,000 140,100
Operating expenses:
Research and development 10,000 9,000 30,000 27,000
Total operating expenses 30,000 25,000 85,000 75,000
Income (loss) from operations 30,500 25,250 95,000 65,100
Net income (loss) $ (1,200) $ 4,000 $ 12,000 $ 20,000
Net income (loss) per share—diluted $ (0.01) $ 0.04 $ 0.11 $ 0.19
Weighted-average shares used—diluted 110,000,000 105,000,000 109,000,000 104,000,000
"""

BALANCE = """Example Corp
CONDENSED CONSOLIDATED BALANCE SHEETS
(000s)
September 30, 2023 December 31, 2022
Cash and cash equivalents $ 50,000 $ 40,000
Accounts receivable 20,000 18,000
Inventories 10,000 9,000
Other current assets 5,000 4,000
Total current assets 85,000 71,000
Total assets 300,000 280,000
"""

PERCENT = """Example Corp
CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS
As a percentage of total revenues
Three Months Ended September 30,
2023 2022
Revenue 100 % 100 %
Cost of revenue 50 50
Gross profit 50 50
Operating expenses 25 25
Income from operations 25 25
Net income (1) % 4 %
"""

MDNA = """ITEM 7. MANAGEMENT'S DISCUSSION AND ANALYSIS
The following table summarizes our consolidated statements of operations (in millions):
Year Ended December 31, 2023 2022 % Change
Revenue 1,000 900 11 %
Operating income 100 90 11 %
Net income 80 70 14 %
Other 1 2 3 %
More 1 2 3 %
"""


def _filing(form: str | None, pages: list[str]) -> Filing:
    f = Filing(filename="x.pdf", format="pdf", form=form)
    add_statement_facts(f, find_statements(pages), "\n".join(pages[:1]))
    return f


def test_ten_q_columns_quarters_and_year_to_date():
    [st] = find_statements([TEN_Q])
    assert st.kind == "income" and st.scale == 3 and st.shares_scale == 0
    assert st.columns == [
        "Three Months Ended September 30, 2023", "Three Months Ended September 30, 2022",
        "Nine Months Ended September 30, 2023", "Nine Months Ended September 30, 2022",
    ]
    f = _filing("10-Q", [TEN_Q, BALANCE])
    # The nine-month column starts the fiscal year: January 1, so the quarter is Q3 FY2023.
    assert f.fiscal_period == "Q3 FY2023" and f.period_end == date(2023, 9, 30)
    assert f.calendar.fiscal_year_end == "--12-31"
    q = financial_series([f], "revenue", period_type="quarterly")["points"]
    assert [(p["period"], p["value"]) for p in q] == [("Q3 FY2022", 100_250_000), ("Q3 FY2023", 120_500_000)]
    ytd = [p for p in financial_series([f], "revenue", period_type="all")["points"] if p["period"].startswith("9M")]
    assert [(p["period"], p["value"]) for p in ytd] == [("9M FY2022", 290_100_000), ("9M FY2023", 350_000_000)]
    ni = financial_series([f], "net income", period_type="quarterly")["points"][-1]
    assert ni["value"] == -1_200_000
    eps = financial_series([f], "eps", period_type="quarterly")["points"][-1]
    assert (eps["value"], eps["period"]) == (-0.01, "Q3 FY2023")  # per-share: never scaled
    shares = [x for x in f.facts if x.unit == "shares"]
    assert shares and max(x.value for x in shares) == 110_000_000  # "except share … data": as printed


def test_balance_sheet_instants_and_000s_scale():
    [st] = find_statements([BALANCE])
    assert (st.kind, st.scale, st.columns) == ("balance", 3, ["September 30, 2023", "December 31, 2022"])
    f = _filing("10-Q", [BALANCE])
    assets = {p["period"]: p["value"] for p in financial_series([f], "total assets", period_type="quarterly")["points"]}
    assert assets == {"FY2022": 280_000_000, "Q3 FY2023": 300_000_000}
    annual = financial_series([f], "total assets", period_type="annual")["points"]
    assert [p["end"] for p in annual] == ["2022-12-31"]  # the quarter-end balance is not annual


def test_a_statement_restated_as_percentages_is_not_read():
    assert find_statements([PERCENT]) == []


def test_a_sentence_naming_a_statement_is_not_a_statement():
    assert find_statements([MDNA]) == []
    f = Filing(filename="x.pdf", format="pdf", form="10-K")
    f.facts = []
    add_statement_facts(f, [], MDNA)
    assert f.facts == []


def test_a_filing_whose_figures_come_from_other_tables_is_warned():
    from finstream.filings.model import Fact, Source

    f = Filing(filename="x.pdf", format="pdf", form="10-K")
    f.facts = [Fact(concept="Revenue", label="Revenue", value=1.0, period_end=date(2023, 12, 31),
                    source=Source(document="x.pdf"))]
    add_statement_facts(f, [], "")
    assert f.warnings and "no primary financial statement" in f.warnings[0]


def test_a_statement_without_a_scale_is_warned():
    page = TEN_Q.replace("(in thousands, except share and per share data)\n", "")
    f = _filing("10-Q", [page])
    assert any("states no scale" in w for w in f.warnings)


def test_earnings_release_headline():
    assert release_quarter("Salesforce Announces Strong First Quarter Fiscal 2024 Results") == (1, 2024)
    assert release_quarter("Adobe Reports Record Revenue in Q1 Fiscal 2023") == (1, 2023)
    assert release_quarter("Intel Reports First-Quarter 2023 Financial Results") == (1, 2023)
    assert release_quarter("results for the third quarter ended November 2") == (3, None)
    assert release_company("Intel Reports First-Quarter 2023 Financial Results") == "Intel"
    assert release_company("Acme Widgets, Inc. Announces Third Quarter Results") == "Acme Widgets"


RELEASE = """Example Corp Reports Third Quarter Results
CONSOLIDATED STATEMENTS OF INCOME
(In millions, except per share amounts)
Three Months Ended
Oct 28, 2023 Oct 29, 2022
Net sales $ 1,205 $ 1,002
Cost of sales 600 500
Gross profit 605 502
Operating income 300 250
Net income $ 120 $ 100
Diluted earnings per share $ 1.20 $ 1.00
"""


def test_release_without_a_fiscal_year_number_names_periods_by_date():
    f = _filing(None, [RELEASE])
    rev = financial_series([f], "revenue", period_type="quarterly")["points"]
    assert [(p["period"], p["value"]) for p in rev] == [
        ("Q3 ended 2022-10-29", 1_002_000_000), ("Q3 ended 2023-10-28", 1_205_000_000)
    ]
    assert f.period_end == date(2023, 10, 28) and f.calendar.weeks_52_53 and not f.calendar.year_known


def test_release_with_a_fiscal_year_number():
    f = _filing(None, [RELEASE.replace("Third Quarter Results", "Third Quarter Fiscal 2024 Results")])
    assert f.fiscal_period == "Q3 FY2024"
    assert financial_series([f], "net income", period_type="quarterly")["points"][-1]["value"] == 120_000_000


IFRS = """Example Holdings plc
Consolidated statement of profit or loss
(in thousands of euros)
For the year ended 31 December
2023 2022
Revenue 50,000 45,000
Cost of sales (20,000) (18,000)
Gross profit 30,000 27,000
Operating profit 10,000 9,000
Finance costs (1,000) (900)
Profit for the year 7,000 6,500
Profit for the year attributable to owners of the parent 6,800 6,300
Basic earnings per share (in euros) 0.68 0.63
"""


def test_an_ifrs_statement_of_profit_or_loss():
    [st] = find_statements([IFRS])
    assert st.kind == "income" and st.scale == 3
    f = _filing("20-F", [IFRS])
    ni = financial_series([f], "net income")["points"]
    assert [(p["period"], p["value"]) for p in ni] == [("FY2022", 6_300_000), ("FY2023", 6_800_000)]
    assert financial_series([f], "operating income")["points"][-1]["value"] == 10_000_000
    assert financial_series([f], "basic eps")["points"][-1]["value"] == 0.68
    assert financial_series([f], "revenue")["unit"] == "EUR"


def test_a_wrapped_line_item_keeps_its_whole_label():
    page = TEN_Q.replace("Net income (loss) $ (1,200)", "Net income (loss) attributable to common\nstockholders $ (1,200)")
    [st] = find_statements([page])
    row = next(r for r in st.rows if str(r[0]).startswith("Net income"))
    assert row == ["Net income (loss) attributable to common stockholders", -1200.0, 4000.0, 12000.0, 20000.0]


RETAIL = """Example Stores, Inc.
CONSOLIDATED STATEMENTS OF EARNINGS
(Amounts in millions, except per share data)
Fiscal 2023 Fiscal 2022 Fiscal 2021
Net sales $ 10,500 $ 10,000 $ 9,000
Cost of sales 7,000 6,800 6,100
Gross profit 3,500 3,200 2,900
Operating income 1,200 1,100 1,000
Net earnings $ 800 $ 750 $ 700
Diluted earnings per share $ 4.00 $ 3.75 $ 3.50
"""

COVER = "FORM 10-K\nANNUAL REPORT\nFor the fiscal year ended January 28, 2024\nExample Stores, Inc.\n"


def test_fiscal_year_columns_end_on_the_covers_year_end_and_keep_the_companys_year_names():
    from finstream.filings.pdf import _metadata

    f = Filing(filename="x.pdf", format="pdf")
    _metadata(f, COVER)
    assert (f.form, f.period_end) == ("10-K", date(2024, 1, 28))
    add_statement_facts(f, find_statements([RETAIL], f.period_end), COVER)
    sales = financial_series([f], "revenue")["points"]
    # "Fiscal 2023" is the year ended January 28, 2024, as the company names it.
    assert [(p["period"], p["end"], p["value"]) for p in sales] == [
        ("FY2021", "2022-01-28", 9_000_000_000), ("FY2022", "2023-01-28", 10_000_000_000),
        ("FY2023", "2024-01-28", 10_500_000_000),
    ]
    assert f.fiscal_period == "FY2023" and f.calendar.year_offset == -1


def test_52_weeks_ended_headings():
    page = RETAIL.replace("Fiscal 2023 Fiscal 2022 Fiscal 2021",
                          "52 Weeks Ended 53 Weeks Ended 52 Weeks Ended\nAugust 29, 2021 August 30, 2020 August 25, 2019")
    [st] = find_statements([page])
    assert st.columns == ["52 Weeks Ended August 29, 2021", "53 Weeks Ended August 30, 2020", "52 Weeks Ended August 25, 2019"]
    f = _filing("10-K", [page])
    assert [p["period"] for p in financial_series([f], "revenue")["points"]] == ["FY2019", "FY2020", "FY2021"]


def test_a_title_broken_over_two_lines():
    page = TEN_Q.replace("CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS", "CONDENSED CONSOLIDATED STATEMENTS OF\nOPERATIONS")
    [st] = find_statements([page])
    assert st.title == "CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS" and st.kind == "income"


def test_a_statement_whose_columns_have_no_periods_is_left_out_and_told():
    page = RETAIL  # "Fiscal 2023 …" columns, but no cover year end to put them on
    notes: list[str] = []
    assert find_statements([page], None, notes) == []
    assert notes and "page 1" in notes[0] and "left out" in notes[0]


def test_footnote_marks_after_a_line_item_are_not_part_of_it():
    page = TEN_Q.replace("Revenue $ 120,500", "Revenue (a) $ 120,500").replace("Gross profit 60,500", "Gross profit (1)* 60,500")
    [st] = find_statements([page])
    labels = [r[0] for r in st.rows]
    assert "Revenue" in labels and "Gross profit" in labels
    assert next(r for r in st.rows if r[0] == "Revenue")[1:] == [120500.0, 100250.0, 350000.0, 290100.0]


def test_the_year_to_date_column_alone_fixes_the_quarter():
    f = _filing("10-Q", [TEN_Q])  # no balance sheet to give the last year end
    assert f.fiscal_period == "Q3 FY2023" and f.calendar.fiscal_year_end == "--12-31"


NCI = """Example Corp
CONSOLIDATED STATEMENTS OF INCOME
(In millions)
Year Ended December 31, 2023 2022
Revenue 5,000 4,000
Operating income 1,500 1,200
Income before income taxes 1,400 1,100
Net income 1,000 800
Net income attributable to noncontrolling interests 20 15
Net income attributable to Example Corp 980 785
"""


def test_net_income_is_the_parents_share_never_the_noncontrolling_interests():
    f = _filing("10-K", [NCI])
    assert financial_series([f], "net income")["points"][-1]["value"] == 980_000_000
