"""The inline-XBRL reader (finstream.filings.ixbrl) on small hand-made iXBRL documents modelled on
the Inline XBRL 1.1 specification (both ix namespaces, nil, hidden facts, scale and sign, formats,
units, precision, the cover's dei facts) and on a real 8-K, with the expected values the spec
and SOURCES.md give."""

from __future__ import annotations

from datetime import date

import pytest
from lxml import etree

from finstream.filings.ingest import ingest
from finstream.filings.ixbrl import load_ixbrl, numeric_value
from finstream.filings.model import FilingError

IX13 = "http://www.xbrl.org/2013/inlineXBRL"
IX08 = "http://www.xbrl.org/2008/inlineXBRL"

CONTEXTS = """
<xbrli:context id="fy"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">320193</xbrli:identifier></xbrli:entity>
<xbrli:period><xbrli:startDate>2023-10-01</xbrli:startDate><xbrli:endDate>2024-09-28</xbrli:endDate></xbrli:period></xbrli:context>
<xbrli:context id="py"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">320193</xbrli:identifier></xbrli:entity>
<xbrli:period><xbrli:startDate>2022-09-25</xbrli:startDate><xbrli:endDate>2023-09-30</xbrli:endDate></xbrli:period></xbrli:context>
<xbrli:context id="bs"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">320193</xbrli:identifier></xbrli:entity>
<xbrli:period><xbrli:instant>2024-09-28</xbrli:instant></xbrli:period></xbrli:context>
<xbrli:context id="cls"><xbrli:entity><xbrli:identifier scheme="http://www.sec.gov/CIK">320193</xbrli:identifier>
<xbrli:segment><xbrldi:explicitMember dimension="us-gaap:StatementClassOfStockAxis">us-gaap:CommonStockMember</xbrldi:explicitMember></xbrli:segment></xbrli:entity>
<xbrli:period><xbrli:startDate>2023-10-01</xbrli:startDate><xbrli:endDate>2024-09-28</xbrli:endDate></xbrli:period></xbrli:context>
<xbrli:unit id="usd"><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unit>
<xbrli:unit id="eps"><xbrli:divide><xbrli:unitNumerator><xbrli:measure>iso4217:USD</xbrli:measure></xbrli:unitNumerator>
<xbrli:unitDenominator><xbrli:measure>xbrli:shares</xbrli:measure></xbrli:unitDenominator></xbrli:divide></xbrli:unit>
"""

COVER = """
<ix:nonNumeric name="dei:DocumentType" contextRef="fy">10-K</ix:nonNumeric>
<ix:nonNumeric name="dei:DocumentPeriodEndDate" contextRef="fy" format="ixt:date-monthname-day-year-en">September 28, 2024</ix:nonNumeric>
<ix:nonNumeric name="dei:DocumentFiscalYearFocus" contextRef="fy">2024</ix:nonNumeric>
<ix:nonNumeric name="dei:DocumentFiscalPeriodFocus" contextRef="fy">FY</ix:nonNumeric>
<ix:nonNumeric name="dei:CurrentFiscalYearEndDate" contextRef="fy" format="ixt:date-month-day">09/28</ix:nonNumeric>
"""


def doc(body: str, *, hidden: str = "", title: str = "Apple Inc. 10-K", ns: str = IX13, cover: str = COVER,
        prolog: str = '<?xml version="1.0" encoding="utf-8"?>\n') -> bytes:
    return (prolog + f"""<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="{ns}"
 xmlns:ixt="http://www.xbrl.org/inlineXBRL/transformation/2020-02-12"
 xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:xbrldi="http://xbrl.org/2006/xbrldi" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns:iso4217="http://www.xbrl.org/2003/iso4217" xmlns:us-gaap="http://fasb.org/us-gaap/2024"
 xmlns:dei="http://xbrl.sec.gov/dei/2024"><head><title>{title}</title></head><body>
<div style="display:none"><ix:header><ix:hidden>{hidden}</ix:hidden><ix:resources>{CONTEXTS}</ix:resources></ix:header></div>
{cover}{body}</body></html>""").encode()


def nf(text: str, name: str = "us-gaap:Revenues", ctx: str = "fy", unit: str | None = "usd", **attrs: str) -> str:
    a = f'name="{name}" contextRef="{ctx}"' + (f' unitRef="{unit}"' if unit else "")
    a += "".join(f' {k.replace("_", ":")}="{v}"' for k, v in attrs.items())
    return f"<ix:nonFraction {a}>{text}</ix:nonFraction>"


def facts_of(data: bytes, concept: str = "us-gaap:Revenues"):
    return [f for f in load_ixbrl("10k.htm", data).facts if f.concept == concept]


def one(data: bytes, concept: str = "us-gaap:Revenues"):
    (fact,) = facts_of(data, concept)
    return fact


# ---------------------------------------------------------------- values: scale, sign, format


def test_a_tagged_number_is_its_text_under_its_format_times_ten_to_the_scale():
    f = one(doc(nf("391,035", format="ixt:num-dot-decimal", scale="6", decimals="-6")))
    assert (f.value, f.scale, f.decimals, f.unit) == (391_035_000_000, 6, -6, "USD")
    assert (f.period_start, f.period_end) == (date(2023, 10, 1), date(2024, 9, 28))
    assert f.source.document == "10k.htm" and f.source.context == "fy" and f.source.period == "FY2024"


@pytest.mark.parametrize("scale,value,kept", [
    ("30", 1e30, 30), ("-30", 1e-30, -30), ("31", 1.0, 0), ("-31", 1.0, 0), ("six", 1.0, 0), ("", 1.0, 0),
    ("-2", 0.01, -2), ("0", 1.0, 0),
])
def test_scale_is_honoured_within_reason_and_otherwise_ignored(scale, value, kept):
    f = one(doc(nf("1", format="ixt:num-dot-decimal", scale=scale, decimals="INF")))
    assert (f.value, f.scale) == (value, kept)


def test_sign_minus_negates_whatever_the_text_shows():
    assert one(doc(nf("460", format="ixt:num-dot-decimal", scale="6", sign="-"))).value == -460_000_000
    # A minus in the text itself is not how iXBRL signs a fact: the value's sign is the attribute's.
    assert one(doc(nf("-5", sign="-"))).value == -5
    assert one(doc(nf("-5"))).value == 5
    assert one(doc(nf("5", sign="+"))).value == 5


def test_numeric_value_of_an_element_reads_all_its_text():
    el = etree.fromstring(f'<ix:nonFraction xmlns:ix="{IX13}" format="ixt:num-dot-decimal" scale="3" sign="-">'
                          '1,<b>234</b>.5</ix:nonFraction>')
    assert numeric_value(el) == -1_234_500.0


def test_units_precision_and_missing_attributes():
    data = doc(nf("1.53", "us-gaap:EarningsPerShareBasic", unit="eps", decimals="2")
               + nf("7", "us-gaap:Other", unit="u9", decimals="INF")
               + nf("8", "us-gaap:Unitless", unit=None))
    filing = load_ixbrl("10k.htm", data)
    by = {f.concept: f for f in filing.facts}
    assert (by["us-gaap:EarningsPerShareBasic"].unit, by["us-gaap:EarningsPerShareBasic"].decimals) == (
        "USD/shares", 2)
    assert (by["us-gaap:Other"].unit, by["us-gaap:Other"].decimals) == ("u9", "INF")
    assert (by["us-gaap:Unitless"].unit, by["us-gaap:Unitless"].decimals) == ("", None)


def test_a_fact_whose_context_is_missing_is_left_out():
    filing = load_ixbrl("10k.htm", doc(nf("1", ctx="nowhere") + nf("2", "us-gaap:Kept")
                                       + '<ix:nonFraction name="us-gaap:NoContext" unitRef="usd">3</ix:nonFraction>'))
    assert [f.concept for f in filing.facts] == ["us-gaap:Kept"]


# ---------------------------------------------------------------- nil, hidden, both namespaces


def test_a_nil_fact_has_no_value_and_is_no_fact():
    filing = load_ixbrl("10k.htm", doc(nf("", xsi_nil="true") + nf("12", "us-gaap:NotNil", xsi_nil="false")))
    assert [f.concept for f in filing.facts] == ["us-gaap:NotNil"]
    assert not any("could not be read" in w for w in filing.warnings)


def test_hidden_facts_count_and_their_header_is_not_text():
    hidden = (nf("15,116,786,000", "dei:EntityCommonStockSharesOutstanding", ctx="bs", unit=None,
                 format="ixt:num-dot-decimal", decimals="INF")
              + '<ix:nonNumeric name="dei:EntityCentralIndexKey" contextRef="fy">0000320193</ix:nonNumeric>'
              + '<ix:nonNumeric name="dei:EntityRegistrantName" contextRef="fy">Apple Inc.</ix:nonNumeric>')
    filing = load_ixbrl("10k.htm", doc("<p>Total net sales</p>", hidden=hidden))
    (shares,) = [f for f in filing.facts if f.concept == "dei:EntityCommonStockSharesOutstanding"]
    assert shares.value == 15_116_786_000 and shares.period_end == date(2024, 9, 28)
    assert (filing.cik, filing.company) == ("320193", "Apple Inc.")
    assert all("0000320193" not in s.text and "15,116,786,000" not in s.text for s in filing.sections)


@pytest.mark.parametrize("ns", [IX13, IX08])
def test_both_inline_xbrl_namespaces_are_read(ns):
    filing = load_ixbrl("10k.htm", doc(nf("5", format="ixt:num-dot-decimal", scale="9"), ns=ns))
    assert [(f.concept, f.value) for f in filing.facts] == [("us-gaap:Revenues", 5e9)]
    assert (filing.form, filing.fiscal_period, filing.period_end) == ("10-K", "FY2024", date(2024, 9, 28))


def test_the_cover_fills_the_filings_metadata_through_the_registry():
    filing = load_ixbrl("10k.htm", doc(nf("1")))
    assert filing.format == "ixbrl" and filing.filename == "10k.htm"
    assert filing.dei["DocumentPeriodEndDate"] == "2024-09-28"
    assert filing.dei["CurrentFiscalYearEndDate"] == "--09-28"
    assert filing.dei["DocumentType"] == "10-K"
    # Only dei facts are cover metadata: a text block of another taxonomy is not.
    filing = load_ixbrl("10k.htm", doc('<ix:nonNumeric name="us-gaap:PolicyTextBlock" contextRef="fy">Policy'
                                       "</ix:nonNumeric>" + nf("1")))
    assert "PolicyTextBlock" not in filing.dei and set(filing.dei) >= {"DocumentType"}


# ---------------------------------------------------------------- what could not be read


def test_numbers_that_do_not_fit_their_format_are_counted_per_format():
    body = (nf("n/a", "us-gaap:A", format="ixt:num-dot-decimal") + nf("1,2", "us-gaap:B", format="ixt:num-dot-decimal")
            + nf("n/a", "us-gaap:C") + nf("3", "us-gaap:D", format="ixt:num-dot-decimal")
            + nf("x", "us-gaap:E", format="ixt:no-such-format"))
    filing = load_ixbrl("10k.htm", doc(body))
    assert [f.concept for f in filing.facts] == ["us-gaap:D"]
    assert [w for w in filing.warnings if "could not be read" in w] == [
        "1 tagged number(s) with format ixt:no-such-format could not be read and were left out",
        "2 tagged number(s) with format ixt:num-dot-decimal could not be read and were left out",
        "1 tagged number(s) with format no format could not be read and were left out",
    ]


# ---------------------------------------------------------------- where each fact is, and the text


def test_each_fact_knows_its_section_and_table_and_the_table_keeps_the_numbers():
    body = """<h2>Item 8. Financial Statements</h2>
<p>CONSOLIDATED STATEMENTS OF OPERATIONS</p>
<table><tr><td></td><td>2024</td><td>2023</td></tr>
<tr><td>Total net sales</td><td>$ """ + nf("391,035", format="ixt:num-dot-decimal", scale="6", decimals="-6") + \
        "</td><td>" + nf("383,285", ctx="py", format="ixt:num-dot-decimal", scale="6", decimals="-6") + \
        "</td></tr></table><p>Net sales rose " + nf("2", "us-gaap:Growth", unit=None, format="ixt:num-dot-decimal") + \
        " percent.</p>"
    filing = load_ixbrl("10k.htm", doc(body))
    revenue = {f.period_end.year: f for f in filing.facts if f.concept == "us-gaap:Revenues"}
    assert revenue[2024].value == 391_035_000_000 and revenue[2023].value == 383_285_000_000
    assert revenue[2024].source.table is not None and revenue[2024].source.table == revenue[2023].source.table
    assert revenue[2024].source.section is not None
    (table,) = filing.tables
    assert table.title == revenue[2024].source.table
    flat = repr(table.rows) + repr(table.columns)
    assert "391" in flat and "383" in flat and "\ue000" not in flat and "\ue001" not in flat
    (growth,) = [f for f in filing.facts if f.concept == "us-gaap:Growth"]
    assert growth.source.table is None and growth.source.section == revenue[2024].source.section
    text = " ".join(s.text for s in filing.sections)
    assert "Net sales rose 2 percent." in text and "\ue000" not in text


def test_without_a_stated_period_the_latest_fact_gives_it():
    cover = '<ix:nonNumeric name="dei:DocumentType" contextRef="fy">10-K</ix:nonNumeric>'
    filing = load_ixbrl("10k.htm", doc(nf("1", ctx="py") + nf("2", "us-gaap:B", ctx="fy") + nf("3", "us-gaap:C", ctx="py"),
                                       cover=cover))
    assert filing.period_end == date(2024, 9, 28)
    assert load_ixbrl("10k.htm", doc("<p>no facts</p>", cover=cover)).period_end is None


def test_without_a_registrant_name_the_title_names_the_company():
    assert load_ixbrl("10k.htm", doc(nf("1"), title="  Apple\n   Inc.  10-K ")).company == "Apple Inc. 10-K"
    assert load_ixbrl("10k.htm", doc(nf("1"), title="   ")).company is None
    named = '<ix:nonNumeric name="dei:EntityRegistrantName" contextRef="fy">Apple Inc.</ix:nonNumeric>'
    assert load_ixbrl("10k.htm", doc(nf("1"), title="Other", cover=COVER + named)).company == "Apple Inc."


# ---------------------------------------------------------------- reading the file


def test_whitespace_before_the_xml_declaration_is_harmless():
    for prolog in ('\n\n  <?xml version="1.0" encoding="utf-8"?>\n', '<?xml version="1.0" encoding="utf-8"?>\n', ""):
        filing = load_ixbrl("10k.htm", doc(nf("7"), prolog=prolog))
        assert [f.value for f in filing.facts] == [7] and filing.warnings == [], prolog
    assert [f.value for f in ingest("10k.htm", doc(nf("7"), prolog="\n  " + '<?xml version="1.0"?>\n')).facts] == [7]


def test_not_well_formed_xhtml_is_recovered_with_a_warning():
    broken = doc(nf("7") + "<p>unclosed <b>bold</p>")
    filing = load_ixbrl("10k.htm", broken)
    assert [f.value for f in filing.facts] == [7] and filing.form == "10-K"
    (warning,) = filing.warnings
    assert warning.startswith("not well-formed XHTML (malformed XML (") and warning.endswith(
        "); read what could be recovered")


def test_a_document_declaring_entities_is_refused_not_recovered():
    evil = doc(nf("7"), prolog='<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY lol "lol">]>\n')
    with pytest.raises(FilingError, match="declares entities") as caught:
        load_ixbrl("10k.htm", evil)
    assert caught.value.filename == "10k.htm"


def test_buckles_8k_cover_from_the_real_filing(filings_dir):
    # SOURCES.md: The Buckle, Inc. (885245), an 8-K for the event of 2024-11-22, cover facts only.
    filing = load_ixbrl("BuckleInc.8-K.html", (filings_dir / "BuckleInc.8-K.html").read_bytes())
    assert (filing.format, filing.form, filing.cik) == ("ixbrl", "8-K", "885245")
    assert filing.period_end == date(2024, 11, 22)
    assert (filing.company, filing.ticker) == ("BUCKLE, INC", "BKE")
    assert filing.facts == [] or all(f.source.document == "BuckleInc.8-K.html" for f in filing.facts)


def test_a_dei_fact_is_all_its_text_and_the_registrants_own_wins_over_a_classs():
    cover = COVER + (
        '<ix:nonNumeric name="dei:TradingSymbol" contextRef="cls">AAPL.CL</ix:nonNumeric>'
        '<ix:nonNumeric name="dei:TradingSymbol" contextRef="fy">AAPL</ix:nonNumeric>'
        '<ix:nonNumeric name="dei:EntityRegistrantName" contextRef="fy">Apple <span>Inc.</span></ix:nonNumeric>')
    filing = load_ixbrl("10k.htm", doc(nf("1"), cover=cover))
    assert (filing.ticker, filing.company) == ("AAPL", "Apple Inc.")


def test_without_a_stated_year_end_a_10ks_twelve_month_context_gives_it():
    cover = COVER.replace(
        '<ix:nonNumeric name="dei:CurrentFiscalYearEndDate" contextRef="fy" format="ixt:date-month-day">09/28'
        "</ix:nonNumeric>", "")
    assert "CurrentFiscalYearEndDate" not in cover
    filing = load_ixbrl("10k.htm", doc(nf("1"), cover=cover))
    assert filing.calendar is not None and filing.calendar.fiscal_year_end == "--09-28"
    assert one(doc(nf("1"), cover=cover)).source.period == "FY2024"


def test_a_number_inside_markup_keeps_its_text_in_the_section():
    filing = load_ixbrl("10k.htm", doc("<p>Net sales were " + nf("<span>1,234</span>", format="ixt:num-dot-decimal")
                                       + " million.</p>"))
    assert one(doc(nf("<span>1,234</span>", format="ixt:num-dot-decimal"))).value == 1234
    text = " ".join(s.text for s in filing.sections)
    assert "Net sales were 1,234 million." in text


def test_text_before_any_heading_is_the_cover_page():
    filing = load_ixbrl("10k.htm", doc("<p>UNITED STATES SECURITIES AND EXCHANGE COMMISSION</p>"))
    assert filing.sections[0].title == "Cover page"


def test_a_document_without_a_body_is_still_read():
    data = doc(nf("7")).replace(b"<body>", b"<div>").replace(b"</body>", b"</div>")
    assert b"body" not in data
    filing = load_ixbrl("10k.htm", data)
    assert [f.value for f in filing.facts] == [7] and filing.form == "10-K"


def test_one_space_before_the_xml_declaration_is_harmless_too():
    filing = load_ixbrl("10k.htm", doc(nf("7"), prolog=' <?xml version="1.0" encoding="utf-8"?>\n'))
    assert [f.value for f in filing.facts] == [7] and filing.warnings == []


def test_a_document_with_nothing_to_recover_is_refused_naming_the_file():
    with pytest.raises(FilingError) as caught:
        load_ixbrl("empty.htm", b"<")
    assert caught.value.filename == "empty.htm" and "empty XML document" in str(caught.value)
