"""The inline-XBRL transformation registry, scale and sign, on small iXBRL documents.

Each expected value is what the ixt registry (TR4/TR5, and SEC's ixt-sec for number words)
defines for the displayed text, not what finstream happens to produce.
"""

from __future__ import annotations

from datetime import date

import pytest

from finstream.filings import ixt
from finstream.filings.ingest import ingest
from finstream.filings.periods import calendar_from_focus, parse_fiscal_year_end

HEAD = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="http://www.xbrl.org/2013/inlineXBRL"
 xmlns:ixt="http://www.xbrl.org/inlineXBRL/transformation/2020-02-12"
 xmlns:ixt-sec="http://www.sec.gov/inlineXBRL/transformation/2015-08-31"
 xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:xbrldi="http://xbrl.org/2006/xbrldi"
 xmlns:iso4217="http://www.xbrl.org/2003/iso4217" xmlns:us-gaap="http://fasb.org/us-gaap/2024"
 xmlns:dei="http://xbrl.sec.gov/dei/2024" xmlns:link="http://www.xbrl.org/2003/linkbase"
 xmlns:xlink="http://www.w3.org/1999/xlink"><head><title>t</title></head><body>
<div style="display:none"><ix:header><ix:references><link:schemaRef xlink:type="simple" xlink:href="x.xsd"/></ix:references>
<ix:resources>
<xbrli:context id="q"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">1</xbrli:identifier></xbrli:entity>
<xbrli:period><xbrli:startDate>2023-04-02</xbrli:startDate><xbrli:endDate>2023-07-01</xbrli:endDate></xbrli:period></xbrli:context>
<xbrli:context id="t"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">1</xbrli:identifier>
<xbrli:segment><xbrldi:typedMember dimension="us-gaap:StartDateAxis"><us-gaap:StartDateAxis.domain>2025-02-01</us-gaap:StartDateAxis.domain></xbrldi:typedMember></xbrli:segment></xbrli:entity>
<xbrli:period><xbrli:instant>2023-07-01</xbrli:instant></xbrli:period></xbrli:context>
<xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>
<xbrli:unit id="pure"><xbrli:measure>xbrli:pure</xbrli:measure></xbrli:unit>
</ix:resources></ix:header></div>
<ix:nonNumeric name="dei:DocumentType" contextRef="q">10-Q</ix:nonNumeric>
<ix:nonNumeric name="dei:DocumentPeriodEndDate" contextRef="q" format="ixt:date-monthname-day-year-en">July 1, 2023</ix:nonNumeric>
<ix:nonNumeric name="dei:CurrentFiscalYearEndDate" contextRef="q" format="ixt:date-month-day">12/30</ix:nonNumeric>
<ix:nonNumeric name="dei:DocumentFiscalYearFocus" contextRef="q">2023</ix:nonNumeric>
<ix:nonNumeric name="dei:DocumentFiscalPeriodFocus" contextRef="q">Q2</ix:nonNumeric>
"""


def _doc(*facts: str) -> bytes:
    return (HEAD + "\n".join(facts) + "</body></html>").encode()


def _value(tag: str, concept: str = "us-gaap:X") -> float:
    filing = ingest("t.htm", _doc(tag))
    hits = [f for f in filing.facts if f.concept == concept]
    assert len(hits) == 1, filing.warnings
    return hits[0].value


def fact(text: str, fmt: str | None = None, scale: int | None = 0, sign: str | None = None,
         unit: str = "usd", decimals: str = "-6", ctx: str = "q", name: str = "us-gaap:X") -> str:
    attrs = f'name="{name}" contextRef="{ctx}" unitRef="{unit}" decimals="{decimals}"'
    if fmt:
        attrs += f' format="{fmt}"'
    if scale is not None:
        attrs += f' scale="{scale}"'
    if sign:
        attrs += f' sign="{sign}"'
    return f"<p><ix:nonFraction {attrs}>{text}</ix:nonFraction></p>"


def test_sign_minus_makes_the_value_negative():
    # Disney's -460: shown "(460)" with the parentheses outside the tag and sign="-" on it.
    assert _value(fact("460", "ixt:num-dot-decimal", 6, "-")) == -460_000_000
    assert _value(fact("460", "ixt:num-dot-decimal", 6)) == 460_000_000


def test_negative_scale_is_honoured_not_clamped():
    # Adobe's gross margin shown "88" with scale="-2" is 0.88.
    assert _value(fact("88", "ixt:num-dot-decimal", -2, unit="pure", decimals="2")) == 0.88
    assert _value(fact("5", "ixt:num-dot-decimal", -3, unit="pure", decimals="3")) == 0.005


def test_sign_and_negative_scale_together():
    assert _value(fact("12.5", "ixt:num-dot-decimal", -2, "-", unit="pure", decimals="3")) == -0.125


@pytest.mark.parametrize("fmt,text,scale,expected", [
    ("ixt:num-dot-decimal", "1,234,567.89", 0, 1_234_567.89),
    ("ixt:numdotdecimal", "1,234", 3, 1_234_000),
    ("ixt:num-comma-decimal", "1.234.567,89", 0, 1_234_567.89),
    ("ixt:numcommadecimal", "12,5", 0, 12.5),
    ("ixt:fixed-zero", "—", 6, 0),
    ("ixt:fixed-zero", "None", 0, 0),
    ("ixt:zero-dash", "—", 6, 0),
    ("ixt:zerodash", "-", 0, 0),
    ("ixt-sec:numwordsen", "two", 0, 2),
    ("ixt-sec:numwordsen", "no", 0, 0),
    ("ixt-sec:numwordsen", "twenty-five", 0, 25),
    ("ixt-sec:numwordsen", "one hundred twenty", 0, 120),
    ("ixt:num-unit-decimal", "5 dollars 5 cents", 0, 5.05),
    ("ixt:num-dot-decimal", "1 234.5", 0, 1234.5),
])
def test_each_numeric_transformation(fmt, text, scale, expected):
    assert _value(fact(text, fmt, scale, unit="pure", decimals="INF")) == expected


def test_text_that_does_not_fit_its_format_is_left_out_with_a_warning():
    filing = ingest("t.htm", _doc(fact("n/a", "ixt:num-dot-decimal"), fact("7", "ixt:num-dot-decimal", name="us-gaap:Y")))
    assert [f.concept for f in filing.facts] == ["us-gaap:Y"]
    assert any("ixt:num-dot-decimal" in w for w in filing.warnings)


def test_the_most_precise_copy_wins_whatever_the_order():
    rounded = fact("22.0", "ixt:num-dot-decimal", 9, decimals="-8")
    exact = fact("22,038", "ixt:num-dot-decimal", 6, decimals="-6")
    for order in ((rounded, exact), (exact, rounded)):
        filing = ingest("t.htm", _doc(*order))
        assert [f.value for f in filing.facts] == [22_038_000_000]
        assert filing.facts[0].decimals == -6


def test_typed_dimension_member_keeps_its_value():
    filing = ingest("t.htm", _doc(fact("3", "ixt:num-dot-decimal", 9, ctx="t")))
    assert filing.facts[0].dimensions == {"us-gaap:StartDateAxis": "2025-02-01"}


def test_cover_dates_go_through_the_registry():
    filing = ingest("t.htm", _doc(fact("1", "ixt:num-dot-decimal")))
    assert filing.dei["CurrentFiscalYearEndDate"] == "--12-30"
    assert filing.dei["DocumentPeriodEndDate"] == "2023-07-01"
    assert filing.period_end == date(2023, 7, 1) and filing.fiscal_period == "Q2 FY2023"
    assert filing.facts[0].source.period == "Q2 FY2023"
    assert filing.calendar.fiscal_year_end == "--12-30" and filing.calendar.weeks_52_53


@pytest.mark.parametrize("fmt,text,expected", [
    ("ixt:date-month-day", "1/31", "--01-31"),
    ("ixt:date-month-day", "12-31", "--12-31"),
    ("ixt:date-day-month", "31/12", "--12-31"),
    ("ixt:date-monthname-day-en", "December 31", "--12-31"),
    ("ixt:date-day-monthname-en", "2 February", "--02-02"),
    ("ixt:date-month-day-year", "07/01/2023", "2023-07-01"),
    ("ixt:date-day-month-year", "01.07.2023", "2023-07-01"),
    ("ixt:date-year-month-day", "2023-07-01", "2023-07-01"),
    ("ixt:date-monthname-day-year-en", "July 1, 2023", "2023-07-01"),
    ("ixt:date-day-monthname-year-en", "1 July 2023", "2023-07-01"),
    ("ixt:date-monthname-year-en", "July 2023", "2023-07"),
    ("ixt:fixed-true", "☒", "true"),
    ("ixt:fixed-false", "☐", "false"),
])
def test_each_date_and_boolean_transformation(fmt, text, expected):
    assert ixt.text_value(text, fmt) == expected


@pytest.mark.parametrize("text,expected", [
    ("--12-31", (12, 31)), ("--0131", (1, 31)), ("12/31", (12, 31)), ("1/28", (1, 28)), ("12-31", (12, 31)),
    ("December 31", (12, 31)), ("Dec. 31", (12, 31)), ("31 December", (12, 31)), ("February 2", (2, 2)),
    ("2023-12-30", (12, 30)), ("nonsense", None), ("13/45", None),
])
def test_fiscal_year_end_in_every_written_form(text, expected):
    assert parse_fiscal_year_end(text) == expected


def test_calendar_without_a_year_end_is_inferred_from_the_period_focus():
    warnings: list[str] = []
    cal = calendar_from_focus(date(2015, 9, 30), 2016, None, "Q1", warnings)
    assert (cal.fye_month, cal.fye_day, cal.year_offset) == (6, 30, 0) and not warnings
    assert cal.label(date(2015, 7, 1), date(2015, 9, 30))[2] == "Q1 FY2016"
    # A 52/53-week quarter: April 1 plus nine months is the year ending near December 31.
    cal = calendar_from_focus(date(2023, 4, 1), 2023, None, "Q1")
    assert (cal.fye_month, cal.fye_day, cal.year_offset) == (12, 31, 0)


def test_a_cover_that_contradicts_itself_is_told():
    warnings: list[str] = []
    calendar_from_focus(date(2023, 7, 31), 2024, "--01-31", "Q3", warnings)
    assert warnings and "Q3" in warnings[0] and "Q2" in warnings[0]


def test_home_depot_names_its_year_after_the_year_it_begins():
    cal = calendar_from_focus(date(2025, 2, 2), 2024, "February 2", "FY")
    assert cal.year_offset == -1
    assert cal.label(date(2024, 1, 29), date(2025, 2, 2))[2] == "FY2024"
    assert cal.label(date(2024, 4, 29), date(2024, 7, 28))[2] == "Q2 FY2024"
    assert cal.label(None, date(2024, 7, 28))[2] == "Q2 FY2024"


def test_xbrl_instance_keeps_dei_numbers_and_typed_dimensions(parsed):
    f = parsed("aapl-20250329_htm.xml")
    assert any(x.concept == "dei:EntityCommonStockSharesOutstanding" for x in f.facts)
    typed = [x for x in f.facts if any(v and ":" not in v for v in x.dimensions.values())]
    assert typed and all(all(v for v in x.dimensions.values()) for x in typed)
    assert f.dei["DocumentFiscalPeriodFocus"] == "Q2"


def test_a_cover_without_fiscal_year_or_period_claims_no_calendar(parsed):
    # Buckle's 8-K cover has a period end (the event date) but no fiscal year end or focus.
    f = parsed("BuckleInc.8-K.html")
    assert f.calendar is None and f.fiscal_period is None
    cal = calendar_from_focus(date(2024, 11, 22), None, None, None)
    assert cal.label(date(2024, 8, 4), date(2024, 11, 2)) == (2024, None, "3 months ended 2024-11-02")
    assert cal.label(None, date(2024, 11, 2))[2] == "as of 2024-11-02"


def test_companyfacts_year_end_is_the_middle_of_the_days_years_ended(parsed):
    # Apple's years end on the last Saturday of September: the 24th to the 30th.
    cal = parsed("CIK0000320193.json").calendar
    assert (cal.fiscal_year_end, cal.weeks_52_53, cal.year_offset) == ("--09-27", True, 0)


def test_a_printed_figure_never_replaces_a_tagged_one():
    from finstream.filings.model import Fact, Filing, Source
    from finstream.filings.series import financial_series

    start, end = date(2023, 4, 2), date(2023, 7, 1)
    text = Filing(filename="release.htm", format="html", period_end=end, facts=[
        Fact(concept="Revenue", label="Revenue", value=22.0e9, period_start=start, period_end=end, fiscal_period="Q3",
             source=Source(document="release.htm", period="Q3 FY2023")),
    ])
    tagged = Filing(filename="10q.htm", format="ixbrl", period_end=date(2023, 6, 30), facts=[
        Fact(concept="us-gaap:Revenues", label="Revenues", value=22_038e6, decimals=-6, period_start=start,
             period_end=end, fiscal_period="Q3", source=Source(document="10q.htm", period="Q3 FY2023")),
    ])
    for order in ([text, tagged], [tagged, text]):
        point = financial_series(order, "revenue", period_type="quarterly")["points"][-1]
        assert (point["value"], point["source"]["document"]) == (22_038e6, "10q.htm")


def test_a_restating_later_filing_wins_among_equally_tagged_facts():
    from finstream.filings.model import Fact, Filing, Source
    from finstream.filings.series import financial_series

    start, end = date(2022, 1, 1), date(2022, 12, 31)

    def filing(name, period_end, value):
        return Filing(filename=name, format="ixbrl", period_end=period_end, facts=[
            Fact(concept="us-gaap:NetIncomeLoss", label="Net income", value=value, decimals=-6, period_start=start,
                 period_end=end, fiscal_period="FY", source=Source(document=name, period="FY2022")),
        ])

    old, new = filing("2022.htm", date(2022, 12, 31), 100e6), filing("2023.htm", date(2023, 12, 31), 90e6)
    for order in ([old, new], [new, old]):
        assert financial_series(order, "net income")["points"][-1]["value"] == 90e6


def test_a_standard_taxonomy_under_another_prefix_is_still_that_taxonomy():
    doc = _doc(fact("5", "ixt:num-dot-decimal", 6)).replace(b'xmlns:us-gaap="http://fasb.org/us-gaap/2024"',
                                                            b'xmlns:gaap="http://fasb.org/us-gaap/2024"')
    doc = doc.replace(b'name="us-gaap:X"', b'name="gaap:X"')
    ifrs = doc.replace(b'xmlns:gaap="http://fasb.org/us-gaap/2024"',
                       b'xmlns:gaap="https://xbrl.ifrs.org/taxonomy/2023-03-23/ifrs-full"')
    assert [f.concept for f in ingest("t.htm", doc).facts] == ["us-gaap:X"]
    assert [f.concept for f in ingest("t.htm", ifrs).facts] == ["ifrs-full:X"]


def test_twelve_and_sixteen_week_quarters_are_quarters():
    # A retailer's year ending near January 31: a 16-week first quarter, then 12-week quarters.
    cal = calendar_from_focus(date(2023, 5, 20), 2023, "--01-31", "Q1")
    assert cal.label(date(2023, 1, 29), date(2023, 5, 20))[2] == "Q1 FY2023"  # 16 weeks
    assert cal.label(date(2023, 5, 21), date(2023, 8, 12))[2] == "Q2 FY2023"  # 12 weeks
    assert cal.label(date(2023, 1, 29), date(2023, 8, 12))[2] == "H1 FY2023"  # 28 weeks
    assert cal.label(date(2023, 1, 29), date(2023, 11, 4))[2] == "9M FY2023"  # 40 weeks
    assert cal.label(date(2023, 11, 5), date(2024, 2, 3))[2] == "Q4 FY2023"  # 13 weeks to the 53rd


def test_an_exact_copy_beats_any_rounded_one():
    exact = fact("22,038,123", "ixt:num-dot-decimal", 0, decimals="INF")
    rounded = fact("22,038", "ixt:num-dot-decimal", 3, decimals="-3")
    for order in ((rounded, exact), (exact, rounded)):
        facts = ingest("t.htm", _doc(*order)).facts
        assert [(f.value, f.decimals) for f in facts] == [(22_038_123, "INF")]
