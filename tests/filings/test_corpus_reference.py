"""Every reference figure of shared/filings/corpus/SOURCES.md, found under its true period.

The values and period labels below are those SOURCES.md states (checked there against Arelle and
the printed statements); nothing here is read back from finstream's own output.
"""

from __future__ import annotations

import pytest

from finstream.filings.series import financial_series

M = 1_000_000


@pytest.fixture(scope="session")
def corpus(parsed):
    return lambda name: parsed(f"corpus/{name}")


def _point(filing, metric, period, period_type="all"):
    points = financial_series([filing], metric, period_type=period_type, limit=40)["points"]
    hits = [p for p in points if p["period"] == period]
    assert hits, f"{metric} {period} not in {[p['period'] for p in points]}"
    return hits[-1]


def _concept(filing, concept, start, end):
    hits = [
        f for f in filing.facts
        if f.concept == concept and not f.dimensions and str(f.period_start) == str(start) and str(f.period_end) == end
    ]
    assert hits, f"{concept} {start}..{end} not found"
    return hits[0]


# (file, form, document fiscal period, [(concept, start, end, value, label)])
TAGGED = [
    ("wmt-10-q-2023-07-31.html", "10-Q", "Q2 FY2024", [
        ("us-gaap:Revenues", "2023-05-01", "2023-07-31", 161_632 * M, "Q2 FY2024"),
        ("us-gaap:NetIncomeLoss", "2023-05-01", "2023-07-31", 7_891 * M, "Q2 FY2024"),
        ("us-gaap:Revenues", "2023-02-01", "2023-07-31", 313_933 * M, "H1 FY2024"),
        ("us-gaap:NetIncomeLoss", "2023-02-01", "2023-07-31", 9_564 * M, "H1 FY2024"),
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2023-05-01", "2023-07-31", 160_280 * M, "Q2 FY2024"),
        ("us-gaap:ProfitLoss", "2023-05-01", "2023-07-31", 8_053 * M, "Q2 FY2024"),
    ]),
    ("dis-10-q-2023-07-01.html", "10-Q", "Q3 FY2023", [
        ("us-gaap:Revenues", "2023-04-02", "2023-07-01", 22_330 * M, "Q3 FY2023"),
        ("us-gaap:NetIncomeLoss", "2023-04-02", "2023-07-01", -460 * M, "Q3 FY2023"),
        ("us-gaap:Revenues", "2022-10-02", "2023-07-01", 67_657 * M, "9M FY2023"),
        ("us-gaap:NetIncomeLoss", "2022-10-02", "2023-07-01", 2_090 * M, "9M FY2023"),
        ("us-gaap:ProfitLoss", "2023-04-02", "2023-07-01", -153 * M, "Q3 FY2023"),
    ]),
    ("orcl-10-q-2023-08-31.html", "10-Q", "Q1 FY2024", [
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2023-06-01", "2023-08-31", 12_453 * M, "Q1 FY2024"),
        ("us-gaap:NetIncomeLoss", "2023-06-01", "2023-08-31", 2_420 * M, "Q1 FY2024"),
    ]),
    ("adbe-10-q-2023-09-01.html", "10-Q", "Q3 FY2023", [
        ("us-gaap:Revenues", "2023-06-03", "2023-09-01", 4_890 * M, "Q3 FY2023"),
        ("us-gaap:NetIncomeLoss", "2023-06-03", "2023-09-01", 1_403 * M, "Q3 FY2023"),
        ("us-gaap:Revenues", "2022-12-03", "2023-09-01", 14_361 * M, "9M FY2023"),
        ("us-gaap:NetIncomeLoss", "2022-12-03", "2023-09-01", 3_945 * M, "9M FY2023"),
    ]),
    ("axp-10-q-2023-09-30.html", "10-Q", "Q3 FY2023", [
        ("us-gaap:RevenuesNetOfInterestExpense", "2023-07-01", "2023-09-30", 15_381 * M, "Q3 FY2023"),
        ("us-gaap:NetIncomeLoss", "2023-07-01", "2023-09-30", 2_451 * M, "Q3 FY2023"),
        ("us-gaap:NetIncomeLossAvailableToCommonStockholdersBasic", "2023-07-01", "2023-09-30", 2_437 * M, "Q3 FY2023"),
        ("us-gaap:RevenuesNetOfInterestExpense", "2023-01-01", "2023-09-30", 44_716 * M, "9M FY2023"),
        ("us-gaap:NetIncomeLoss", "2023-01-01", "2023-09-30", 6_441 * M, "9M FY2023"),
        ("us-gaap:NoninterestIncome", "2023-07-01", "2023-09-30", 11_939 * M, "Q3 FY2023"),
        ("us-gaap:InterestIncomeExpenseNet", "2023-07-01", "2023-09-30", 3_442 * M, "Q3 FY2023"),
        ("axp:TotalRevenuesNetOfInterestExpenseAfterProvisionsForLosses", "2023-07-01", "2023-09-30", 14_148 * M, "Q3 FY2023"),
    ]),
    ("hd-10-q-2023-07-30.html", "10-Q", "Q2 FY2023", [
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2023-05-01", "2023-07-30", 42_916 * M, "Q2 FY2023"),
        ("us-gaap:NetIncomeLoss", "2023-05-01", "2023-07-30", 4_659 * M, "Q2 FY2023"),
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2023-01-30", "2023-07-30", 80_173 * M, "H1 FY2023"),
        ("us-gaap:NetIncomeLoss", "2023-01-30", "2023-07-30", 8_532 * M, "H1 FY2023"),
    ]),
    ("intc-10-q-2023-07-01.html", "10-Q", "Q2 FY2023", [
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2023-04-02", "2023-07-01", 12_949 * M, "Q2 FY2023"),
        ("us-gaap:NetIncomeLoss", "2023-04-02", "2023-07-01", 1_481 * M, "Q2 FY2023"),
        ("us-gaap:NetIncomeLoss", "2023-01-01", "2023-07-01", -1_277 * M, "H1 FY2023"),
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2023-01-01", "2023-07-01", 24_664 * M, "H1 FY2023"),
        ("us-gaap:ProfitLoss", "2023-04-02", "2023-07-01", 1_473 * M, "Q2 FY2023"),
        # The prior year's 27-week half (2021-12-26..2022-07-02) is still a half year.
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2021-12-26", "2022-07-02", None, "H1 FY2022"),
    ]),
    ("sr-10-q-2023-12-31.htm", "10-Q", "Q1 FY2024", [
        ("us-gaap:RegulatedAndUnregulatedOperatingRevenue", "2023-10-01", "2023-12-31", 756_600_000, "Q1 FY2024"),
        ("us-gaap:NetIncomeLoss", "2023-10-01", "2023-12-31", 85_100_000, "Q1 FY2024"),
        ("us-gaap:NetIncomeLossAvailableToCommonStockholdersBasic", "2023-10-01", "2023-12-31", 81_300_000, "Q1 FY2024"),
    ]),
    ("sr-10-q-2023-12-31_htm.xml", "10-Q", "Q1 FY2024", [
        ("us-gaap:RegulatedAndUnregulatedOperatingRevenue", "2023-10-01", "2023-12-31", 756_600_000, "Q1 FY2024"),
        ("us-gaap:NetIncomeLoss", "2023-10-01", "2023-12-31", 85_100_000, "Q1 FY2024"),
        ("us-gaap:NetIncomeLossAvailableToCommonStockholdersBasic", "2023-10-01", "2023-12-31", 81_300_000, "Q1 FY2024"),
    ]),
    ("unh-10-k-2024-12-31.html", "10-K", "FY2024", [
        ("us-gaap:Revenues", "2024-01-01", "2024-12-31", 400_278 * M, "FY2024"),
        ("us-gaap:NetIncomeLoss", "2024-01-01", "2024-12-31", 14_405 * M, "FY2024"),
        ("us-gaap:ProfitLoss", "2024-01-01", "2024-12-31", 15_242 * M, "FY2024"),
    ]),
    ("crm-10-k-2025-01-31.html", "10-K", "FY2025", [
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2024-02-01", "2025-01-31", 37_895 * M, "FY2025"),
        ("us-gaap:NetIncomeLoss", "2024-02-01", "2025-01-31", 6_197 * M, "FY2025"),
    ]),
    ("hd-10-k-2025-02-02.html", "10-K", "FY2024", [
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2024-01-29", "2025-02-02", 159_514 * M, "FY2024"),
        ("us-gaap:NetIncomeLoss", "2024-01-29", "2025-02-02", 14_806 * M, "FY2024"),
        ("us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", "2023-01-30", "2024-01-28", 152_669 * M, "FY2023"),
        ("us-gaap:NetIncomeLoss", "2023-01-30", "2024-01-28", 15_143 * M, "FY2023"),
    ]),
    ("msft-10-q-2015-09-30.xml", "10-Q", "Q1 FY2016", [
        ("us-gaap:SalesRevenueNet", "2015-07-01", "2015-09-30", 20_379 * M, "Q1 FY2016"),
        ("us-gaap:NetIncomeLoss", "2015-07-01", "2015-09-30", 4_620 * M, "Q1 FY2016"),
        ("us-gaap:CostOfRevenue", "2015-07-01", "2015-09-30", 7_207 * M, "Q1 FY2016"),
        ("us-gaap:GrossProfit", "2015-07-01", "2015-09-30", 13_172 * M, "Q1 FY2016"),
    ]),
]


@pytest.mark.parametrize("name,form,period,expected", TAGGED, ids=[t[0] for t in TAGGED])
def test_tagged_reference_figures_under_their_true_period(corpus, name, form, period, expected):
    f = corpus(name)
    assert (f.form, f.fiscal_period) == (form, period)
    for concept, start, end, value, label in expected:
        fact = _concept(f, concept, start, end)
        if value is not None:
            assert fact.value == value, (concept, start, end)
        assert fact.source.period == label, (concept, start, end, fact.source.period)


@pytest.mark.parametrize("name,metric,period,value", [
    ("wmt-10-q-2023-07-31.html", "revenue", "Q2 FY2024", 161_632 * M),
    ("wmt-10-q-2023-07-31.html", "net income", "Q2 FY2024", 7_891 * M),  # attributable, not incl. NCI
    ("dis-10-q-2023-07-01.html", "net income", "Q3 FY2023", -460 * M),
    ("axp-10-q-2023-09-30.html", "revenue", "Q3 FY2023", 15_381 * M),
    ("sr-10-q-2023-12-31.htm", "revenue", "Q1 FY2024", 756_600_000),
    ("unh-10-k-2024-12-31.html", "net income", "FY2024", 14_405 * M),
    ("hd-10-k-2025-02-02.html", "revenue", "FY2024", 159_514 * M),
    ("msft-10-q-2015-09-30.xml", "revenue", "Q1 FY2016", 20_379 * M),
])
def test_common_names_pick_the_headline_concept(corpus, name, metric, period, value):
    assert _point(corpus(name), metric, period)["value"] == value


def test_a_quarter_end_balance_is_never_an_annual_figure(corpus):
    f = corpus("wmt-10-q-2023-07-31.html")
    annual = financial_series([f], "total assets", period_type="annual")["points"]
    assert all(p["end"] != "2023-07-31" for p in annual)
    assert [p["period"] for p in annual] == ["FY2023"]  # the balance at 2023-01-31
    quarterly = financial_series([f], "total assets", period_type="quarterly")["points"]
    assert quarterly[-1]["end"] == "2023-07-31" and quarterly[-1]["period"] == "Q2 FY2024"


def test_year_to_date_columns_are_never_quarters(corpus):
    f = corpus("dis-10-q-2023-07-01.html")
    quarterly = financial_series([f], "revenue", period_type="quarterly", limit=40)["points"]
    assert all(p["period"].startswith("Q") for p in quarterly)
    assert 67_657 * M not in [p["value"] for p in quarterly]


def test_wells_fargo_10k_has_no_income_statement(corpus):
    from finstream.filings.series import SeriesNotFound

    f = corpus("wfc-10-k-2024-12-31.html")
    for metric in ("revenue", "net income"):
        with pytest.raises(SeriesNotFound):
            financial_series([f], metric, period_type="all")
    assert _concept(f, "dei:EntityPublicFloat", "2024-06-28", "2024-06-28").value == 201_600 * M if any(
        x.concept == "dei:EntityPublicFloat" and x.period_start is not None for x in f.facts
    ) else next(x for x in f.facts if x.concept == "dei:EntityPublicFloat").value == 201_600 * M
    shares = [x for x in f.facts if x.concept == "dei:EntityCommonStockSharesOutstanding"]
    assert [(x.value, str(x.period_end)) for x in shares] == [(3_288_186_582, "2025-02-14")]


@pytest.mark.parametrize("name,fye,weeks,offset", [
    ("wmt-10-q-2023-07-31.html", "--01-31", False, 0),
    ("dis-10-q-2023-07-01.html", "--09-30", True, 0),
    ("orcl-10-q-2023-08-31.html", "--05-31", False, 0),
    ("adbe-10-q-2023-09-01.html", "--12-01", True, 0),
    ("axp-10-q-2023-09-30.html", "--12-31", False, 0),
    ("hd-10-q-2023-07-30.html", "--01-28", True, -1),
    ("intc-10-q-2023-07-01.html", "--12-31", True, 0),
    ("unh-10-k-2024-12-31.html", "--12-31", False, 0),
    ("wfc-10-k-2024-12-31.html", "--12-31", False, 0),
    ("crm-10-k-2025-01-31.html", "--01-31", False, 0),
    ("hd-10-k-2025-02-02.html", "--02-02", True, -1),  # the 10-K cover writes "February 2"
    ("msft-10-q-2015-09-30.xml", "--06-30", False, 0),
])
def test_fiscal_calendar_from_the_cover_in_every_written_form(corpus, name, fye, weeks, offset):
    cal = corpus(name).calendar
    assert (cal.fiscal_year_end, cal.weeks_52_53, cal.year_offset) == (fye, weeks, offset)


# PDFs and earnings releases: (file, form, fiscal period, [(metric, period, value, page)])
PRINTED = [
    ("mmm-10-k-2022-12-31.pdf", "10-K", "FY2022", [
        ("revenue", "FY2022", 34_229 * M, 48), ("net income", "FY2022", 5_777 * M, 48),
        ("revenue", "FY2021", 35_355 * M, 48), ("revenue", "FY2020", 32_184 * M, 48),
    ]),
    ("adbe-10-k-2022-12-02.pdf", "10-K", "FY2022", [
        ("revenue", "FY2022", 17_606 * M, 54), ("net income", "FY2022", 4_756 * M, 54),
        ("revenue", "FY2021", 15_785 * M, 54),
    ]),
    ("wmt-10-k-2023-01-31.pdf", "10-K", "FY2023", [
        ("revenue", "FY2023", 611_289 * M, 54), ("net income", "FY2023", 11_680 * M, 54),
    ]),
    ("msft-10-k-2023-06-30.pdf", "10-K", "FY2023", [
        ("revenue", "FY2023", 211_915 * M, 58), ("net income", "FY2023", 72_361 * M, 58),
        ("revenue", "FY2022", 198_270 * M, 58),
    ]),
    ("crm-ex99-1-2023-04-30.pdf", None, "Q1 FY2024", [
        ("revenue", "Q1 FY2024", 8_247 * M, 6), ("net income", "Q1 FY2024", 199 * M, 6),
        ("operating income", "Q1 FY2024", 412 * M, 6), ("eps", "Q1 FY2024", 0.20, 6),
    ]),
    ("intc-ex99-1-2023-04-01.pdf", None, "Q1 FY2023", [
        ("revenue", "Q1 FY2023", 11_715 * M, 6), ("net income", "Q1 FY2023", -2_758 * M, 6),
        ("operating income", "Q1 FY2023", -1_468 * M, 6), ("eps", "Q1 FY2023", -0.66, 6),
    ]),
    ("adbe-ex99-1-2023-03-03.htm", "EX-99.1", "Q1 FY2023", [
        ("revenue", "Q1 FY2023", 4_655 * M, None), ("net income", "Q1 FY2023", 1_247 * M, None),
        ("eps", "Q1 FY2023", 2.71, None),
    ]),
]


@pytest.mark.parametrize("name,form,period,expected", PRINTED, ids=[t[0] for t in PRINTED])
def test_printed_statements_give_the_reference_figures(corpus, name, form, period, expected):
    f = corpus(name)
    if form:
        assert f.form == form
    assert f.fiscal_period == period
    for metric, label, value, page in expected:
        point = _point(f, metric, label)
        assert point["value"] == value, (metric, label)
        assert point["source"].get("page") == page, (metric, label)


@pytest.mark.parametrize("name,company", [
    ("crm-ex99-1-2023-04-30.pdf", "Salesforce"), ("intc-ex99-1-2023-04-01.pdf", "Intel"),
    ("adbe-ex99-1-2023-03-03.htm", "Adobe"), ("wmt-10-k-2023-01-31.pdf", "WALMART INC."),
    ("msft-10-k-2023-06-30.pdf", "MICROSOFT CORPORATION"), ("adbe-10-k-2022-12-02.pdf", "ADOBE INC."),
])
def test_company_read_from_the_first_pages(corpus, name, company):
    assert corpus(name).company == company


def test_percentage_restatement_is_never_read_as_dollars(corpus):
    f = corpus("crm-ex99-1-2023-04-30.pdf")
    assert not [x for x in f.facts if x.source.page == 7]  # "as a percentage of total revenues"
    revenue = [x for x in f.facts if x.concept == "Total revenues"]
    assert revenue and all(x.value in (8_247 * M, 7_411 * M) for x in revenue)
    assert all(x.unit != "%" or x.value < 1000 for x in f.facts)


def test_mdna_percent_change_columns_do_not_become_dollar_facts(corpus):
    for name in ("mmm-10-k-2022-12-31.pdf", "adbe-10-k-2022-12-02.pdf", "msft-10-k-2023-06-30.pdf"):
        f = corpus(name)
        pages = {x.source.page for x in f.facts}
        assert pages and all(p not in (25, 40, 41, 42, 44, 45) for p in pages), (name, pages)


def test_intel_release_and_10q_agree_on_the_half_year(corpus):
    q1 = _point(corpus("intc-ex99-1-2023-04-01.pdf"), "net income", "Q1 FY2023")["value"]
    q2 = _point(corpus("intc-10-q-2023-07-01.html"), "net income", "Q2 FY2023")["value"]
    h1 = _point(corpus("intc-10-q-2023-07-01.html"), "net income", "H1 FY2023")["value"]
    assert q1 + q2 == h1 == -1_277 * M


# companyfacts: SEC's fy/fp name the filing's year, never the fact's.
def test_marvell_companyfacts_years_follow_the_company(corpus):
    f = corpus("mrvl-companyfacts-2026-05-28.json")
    assert f.calendar.weeks_52_53 and f.calendar.year_offset == 0
    assert _point(f, "revenue", "FY2026", "annual")["value"] == 8_194_600_000
    assert _point(f, "net income", "FY2026", "annual")["value"] == 2_670_100_000
    q1 = _point(f, "revenue", "Q1 FY2027", "quarterly")
    assert (q1["start"], q1["end"], q1["value"]) == ("2026-02-01", "2026-05-02", 2_417_800_000)
    assert _point(f, "net income", "Q1 FY2027", "quarterly")["value"] == 34_500_000
    # The quarter ended 2025-05-03 is listed under fy=2026 and fy=2027: one point, Q1 FY2026.
    rev = financial_series([f], "revenue", period_type="quarterly", limit=40)["points"]
    labels = [p["period"] for p in rev]
    assert len(labels) == len(set(labels))
    assert next(p for p in rev if p["end"] == "2025-05-03")["period"] == "Q1 FY2026"


def test_marvell_restatement_latest_filing_wins_and_history_is_kept(corpus):
    f = corpus("mrvl-companyfacts-2026-05-28.json")
    ni = next(x for x in f.facts if x.concept == "us-gaap:NetIncomeLoss"
              and str(x.period_start) == "2021-01-31" and str(x.period_end) == "2021-07-31")
    assert ni.value == -364_600_000
    assert [h.value for h in ni.history] == [-364_670_000]
    assert ni.source.period == "H1 FY2022"


def test_marvell_q4_is_derived_from_the_year_minus_nine_months(corpus):
    f = corpus("mrvl-companyfacts-2026-05-28.json")
    q4 = _point(f, "revenue", "Q4 FY2026", "quarterly")
    assert q4["derived"] is True and q4["value"] == 8_194_600_000 - 5_975_900_000
    assert [s["period"] for s in q4["derived_from"]] == ["FY2026", "9M FY2026"]
    assert (q4["start"], q4["end"]) == ("2025-11-02", "2026-01-31")
    # Not for per-share figures, and never in an annual series.
    eps = financial_series([f], "eps", period_type="quarterly", limit=40)["points"]
    assert not any(p.get("derived") for p in eps)
    assert not any(p.get("derived") for p in financial_series([f], "revenue", limit=40)["points"])


def test_tsmc_ifrs_companyfacts_give_the_common_metrics(corpus):
    f = corpus("tsm-companyfacts-2025-04-17.json")
    rev = _point(f, "revenue", "FY2024", "annual")
    assert (rev["value"], rev["source"]["concept"]) == (2_894_307_700_000, "ifrs-full:Revenue")
    ni = _point(f, "net income", "FY2024", "annual")
    assert (ni["value"], ni["source"]["concept"]) == (1_158_380_200_000, "ifrs-full:ProfitLossAttributableToOwnersOfParent")
    assert financial_series([f], "revenue")["unit"] == "TWD"  # the reporting currency, not the USD translation
    assert _point(f, "total assets", "FY2024", "annual")["source"]["concept"] == "ifrs-full:Assets"
    assert _point(f, "cash", "FY2024", "annual")["source"]["concept"] == "ifrs-full:CashAndCashEquivalents"
    assert financial_series([f], "eps")["unit"].endswith("/shares")
    # TSMC's 2020 revenue is listed with fy=2022 (a comparative): it is still FY2020.
    assert _point(f, "revenue", "FY2020", "annual")["end"] == "2020-12-31"


def _hd_companyfacts() -> bytes:
    """A companyfacts document shaped like SEC's for Home Depot: fy names the filing's fiscal year,
    which HD names after the year it begins (the 10-K for the year ended 2025-02-02 has fy=2024)."""
    import json

    def e(start, end, val, accn, fy, fp, form, filed):
        return {"start": start, "end": end, "val": val, "accn": accn, "fy": fy, "fp": fp, "form": form, "filed": filed}

    k25, k24, q23 = "0000354950-25-000010", "0000354950-24-000010", "0000354950-23-000185"
    revenue = [
        e("2022-01-31", "2023-01-29", 157_403 * M, k24, 2023, "FY", "10-K", "2024-03-13"),
        e("2023-01-30", "2024-01-28", 152_669 * M, k24, 2023, "FY", "10-K", "2024-03-13"),
        e("2023-01-30", "2024-01-28", 152_669 * M, k25, 2024, "FY", "10-K", "2025-03-21"),
        e("2024-01-29", "2025-02-02", 159_514 * M, k25, 2024, "FY", "10-K", "2025-03-21"),
        e("2023-05-01", "2023-07-30", 42_916 * M, q23, 2023, "Q2", "10-Q", "2023-08-29"),
        e("2023-01-30", "2023-07-30", 80_173 * M, q23, 2023, "Q2", "10-Q", "2023-08-29"),
    ]
    doc = {"cik": 354950, "entityName": "HOME DEPOT, INC.", "facts": {"us-gaap": {
        "RevenueFromContractWithCustomerExcludingAssessedTax": {"label": "Revenue", "units": {"USD": revenue}}}}}
    return json.dumps(doc).encode()


def test_companyfacts_names_years_as_the_company_does_and_agrees_with_its_10k(corpus):
    from finstream.filings.ingest import ingest

    cf = ingest("hd-companyfacts.json", _hd_companyfacts())
    assert cf.calendar.year_offset == -1 and cf.calendar.weeks_52_53
    rev = {p["period"]: p["value"] for p in financial_series([cf], "revenue", limit=40)["points"]}
    assert rev == {"FY2022": 157_403 * M, "FY2023": 152_669 * M, "FY2024": 159_514 * M}
    assert _point(cf, "revenue", "Q2 FY2023", "quarterly")["value"] == 42_916 * M
    assert _point(cf, "revenue", "H1 FY2023")["value"] == 80_173 * M
    # With the 10-K loaded too, each year is one point under one label, the same in both files.
    tenk = corpus("hd-10-k-2025-02-02.html")
    both = financial_series([cf, tenk], "revenue", limit=40)["points"]
    labels = [p["period"] for p in both]
    assert len(labels) == len(set(labels))
    assert {p["period"]: p["value"] for p in both}["FY2024"] == 159_514 * M
    q10 = corpus("hd-10-q-2023-07-30.html")
    quarters = financial_series([cf, q10], "revenue", period_type="quarterly", limit=40)["points"]
    assert [p["period"] for p in quarters].count("Q2 FY2023") == 1


def test_companyfacts_and_the_10k_of_the_same_company_give_one_point_per_year(parsed):
    both = financial_series([parsed("CIK0000320193.json"), parsed("aapl-10-k-2024-11-01.html")], "revenue", limit=40)
    labels = [p["period"] for p in both["points"]]
    assert len(labels) == len(set(labels))
    by = {p["period"]: (p["start"], p["end"], p["value"]) for p in both["points"]}
    assert by["FY2024"] == ("2023-10-01", "2024-09-28", 391_035 * M)
    assert by["FY2023"] == ("2022-09-25", "2023-09-30", 383_285 * M)
