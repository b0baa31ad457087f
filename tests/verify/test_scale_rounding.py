"""Scale and rounding, as properties: a number written at any scale with any number of decimals
verifies against the fact it rounds, and a number one step off at that precision does not."""

from __future__ import annotations

from datetime import date

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from finstream.filings.model import Fact, Filing, Source
from finstream.verify.check import Claim, check_claim
from finstream.verify.facts import FactIndex
from finstream.verify.numbers import digits_tolerance, find_numbers, float_tolerance
from finstream.verify.periods import Period


def index_of(value: float, unit: str = "USD") -> FactIndex:
    fact = Fact(
        concept="us-gaap:Revenues", label="Revenue", value=value, unit=unit,
        period_start=date(2023, 10, 1), period_end=date(2024, 9, 28),
        source=Source(document="x.htm", concept="us-gaap:Revenues", period="FY2024"),
    )
    return FactIndex([Filing(filename="x.htm", format="ixbrl", facts=[fact])])


def check_text_number(text: str, index: FactIndex, period: Period | None = Period("FY", 2024)) -> str:
    (w,) = find_numbers(text)
    claim = Claim(value=w.value, tolerance=w.tolerance, kind=w.kind, text=w.text, period=period, loss=w.loss)
    return check_claim(claim, index).status


def test_apples_revenue_at_every_scale():
    index = index_of(391_035_000_000)
    for text in ("$391,035 million", "$391.0B", "$391.04B", "$391 billion", "$391.035 billion",
                 "$391,035,000,000", "$391035000000", "USD 391.0 bn", "391,035 million dollars",
                 "$0.391 trillion"):
        assert check_text_number(text, index) == "verified", text
    for text in ("$412.3B", "$391.1B", "$391,036 million", "$390 billion", "$391,035,000,001", "$391.04M"):
        assert check_text_number(text, index) == "unverified", text


millions = st.integers(min_value=1_000, max_value=9_999_999)


@settings(max_examples=150, deadline=None)
@given(millions, st.integers(min_value=0, max_value=3))
def test_written_in_billions_with_any_decimals_verifies(m, decimals):
    value = m * 1e6
    index = index_of(value)
    shown = f"${value / 1e9:,.{decimals}f}B"
    assert check_text_number(shown, index) == "verified", shown
    step = 10.0 ** (-decimals)
    off = f"${value / 1e9 + 2 * step:,.{decimals}f}B"  # two steps away: beyond any rounding
    assert check_text_number(off, index) == "unverified", off


@settings(max_examples=100, deadline=None)
@given(millions)
def test_millions_billions_and_units_are_the_same_fact(m):
    value = m * 1e6
    index = index_of(value)
    for shown in (f"${m:,} million", f"${m:,}M", f"${int(value):,}"):
        assert check_text_number(shown, index) == "verified", shown


@settings(max_examples=100, deadline=None)
@given(millions)
def test_negative_and_parenthesised_values(m):
    value = -m * 1e6
    index = index_of(value)
    for shown in (f"$({m:,}) million", f"(${m:,} million)", f"-${m:,} million", f"−${m:,}M"):
        (w,) = find_numbers(shown)
        assert w.value == value, shown
        assert check_text_number(shown, index) == "verified", shown
    # The same amount written as a gain is not the loss the filing reports...
    assert check_text_number(f"${m:,} million", index) == "unverified"
    # ...unless the words call it a loss.
    assert check_text_number(f"a net loss of ${m:,} million", index) == "verified"


@given(st.integers(min_value=0, max_value=6), st.integers(min_value=1, max_value=10**6))
def test_the_last_written_digit_sets_the_tolerance(decimals, n):
    assume(decimals > 0 or n % 1000)  # "1000" may be a rounded thousand (next test)
    text = f"{n / 10**decimals:.{decimals}f}"
    assert digits_tolerance(text) == 0.5 * 10.0**-decimals


def test_trailing_zeros_round_but_keep_three_significant_digits():
    assert digits_tolerance("391,000,000,000") == 0.5e9
    assert digits_tolerance("400,000,000,000") == 0.5e9  # "4" alone is not a precision
    assert digits_tolerance("391") == 0.5
    assert digits_tolerance("3,660") == 0.5  # one zero is a digit, not rounding
    assert digits_tolerance("391,035,000") == 500
    assert float_tolerance(391035000000.0) == 0.5e6  # to the million, as the filing states it
    assert float_tolerance(391035123456.0) == 0.5
    assert float_tolerance(383.3) == 0.05
    assert float_tolerance(7.79) == 0.005


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=10, max_value=900), st.integers(min_value=1000, max_value=5000))
def test_a_percentage_rounds_like_the_ratio_it_is(part, whole):
    """46.2% is a margin of two facts when the ratio rounds to it (at the written decimals)."""
    facts = [
        Fact(concept=c, label=c, value=v * 1e6, period_start=date(2023, 10, 1), period_end=date(2024, 9, 28),
             source=Source(document="x.htm", concept=c, period="FY2024"))
        for c, v in (("us-gaap:GrossProfit", part), ("us-gaap:Revenues", whole))
    ]
    index = FactIndex([])
    index.add_tool_result("get_financial_data", {"concept": "x", "unit": "USD", "points": []})
    from finstream.verify.facts import known_from_fact

    for f in facts:
        k = known_from_fact(f)
        k.origin = "series"
        index.add(k)
    ratio = part / whole * 100
    shown = f"{ratio:.1f}%"
    (w,) = find_numbers(shown)
    result = check_claim(Claim(value=w.value, tolerance=w.tolerance, kind="percent", text=shown), index)
    assert result.status == "derived" and result.formula == "margin", (shown, result.reason)
    wrong = f"{ratio + 0.2:.1f}%"
    (w,) = find_numbers(wrong)
    result = check_claim(Claim(value=w.value, tolerance=w.tolerance, kind="percent", text=wrong), index)
    assert result.status == "unverified", (wrong, result.reason)
