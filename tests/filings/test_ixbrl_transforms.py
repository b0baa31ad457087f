"""The inline-XBRL transformation registry (finstream.filings.ixt) rule by rule, at its edges: what
each ixt / ixt-sec format turns a displayed text into (the value before scale and sign), which
texts it refuses and what the refusal names. Expected values follow the registries' definitions
(TR4/TR5 and SEC's ixt-sec num-word-en), not finstream's output."""

from __future__ import annotations

from decimal import Decimal

import pytest

from finstream.filings import ixt
from finstream.filings.ixt import TransformError


@pytest.mark.parametrize("text,expected", [
    ("ten", "10"), ("twenty one", "21"), ("twenty-five", "25"), ("ninety-nine", "99"),
    ("hundred", "100"), ("a hundred", "100"), ("one hundred and five", "105"),
    ("one hundred twenty-five thousand", "125000"), ("thousand", "1000"), ("two thousand", "2000"),
    ("one thousand, two hundred", "1200"), ("one million two hundred thousand", "1200000"),
    ("three billion", "3000000000"), ("two trillion five", "2000000000005"),
    ("5 million", "5000000"), ("1.5 million", "1500000"), ("12", "12"),
    ("a half", "0.5"), ("half", "0.5"), ("a quarter", "0.25"), ("three quarters", "0.75"),
    ("none", "0"), ("no", "0"), ("nil", "0"), ("zero", "0"), ("single", "1"), ("an", "1"),
    ("  Twenty\u00a0Two  ", "22"), ("FORTY-TWO", "42"), ("thirty 2", "32"), ("one hundred 5", "105"),
])
def test_number_words_in_english(text, expected):
    assert ixt.num_words(text) == expected


@pytest.mark.parametrize("text,word", [("two apples", "apples"), ("one-ish", "ish"), ("1e3", "1e3")])
def test_a_word_that_is_no_number_is_refused_by_name(text, word):
    with pytest.raises(TransformError, match=f"'{word}' is not a number word"):
        ixt.num_words(text)


@pytest.mark.parametrize("text", ["", "  ", "and", " - "])
def test_no_number_words_at_all_is_refused(text):
    with pytest.raises(TransformError, match="no number words in"):
        ixt.num_words(text)


@pytest.mark.parametrize("fmt,text,expected", [
    # num-dot-decimal and its TR1/TR2 names
    ("ixt:num-dot-decimal", "1,234,567.89", "1234567.89"),
    ("ixt:numdotdecimal", ".5", "0.5"),
    ("ixt:numcommadot", "1,234.5", "1234.5"),
    ("ixt:numspacedot", "1 234.5", "1234.5"),
    ("ixt:numdotdecimalapos", "1'234.5", "1234.5"),
    ("ixt:num-dot-decimal", "1\u2019234\u2019567", "1234567"),
    ("ixt:num-dot-decimal", "1234", "1234"),
    # num-comma-decimal and its names
    ("ixt:num-comma-decimal", "1.234.567,89", "1234567.89"),
    ("ixt:numdotcomma", "1.234,5", "1234.5"),
    ("ixt:numspacecomma", "1 234,5", "1234.5"),
    ("ixt:numcommadecimalapos", "1'234,5", "1234.5"),
    ("ixt:numcomma", "12,5", "12.5"),
    ("ixt:num-comma-decimal", ",25", "0.25"),
    # dashes and fixed values
    ("ixt:zero-dash", "\u2013", "0"), ("ixt:numdash", "\u2212", "0"), ("ixt:fixed-zero", "n/a", "0"),
    # number words and units
    ("ixt-sec:num-word-en", "seven", "7"), ("ixt-sec:numwordsen", "no", "0"), ("ixt:numworden", "six", "6"),
    ("ixt:num-unit-decimal", "5 dollars 50 cents", "5.50"), ("ixt:num-unit-decimal", "1,000 euro 5 cent", "1000.05"),
    ("ixt:numunitdecimal", "3 pounds 7 pence", "3.07"),
    # the format name is matched on its local part, any case, hyphens or not
    ("NUM-DOT-DECIMAL", "2.5", "2.5"), ("ixt:NumDotDecimal", "2.5", "2.5"),
])
def test_each_numeric_format(fmt, text, expected):
    assert ixt.numeric(text, fmt) == Decimal(expected)


@pytest.mark.parametrize("text,expected", [
    ("1,234", "1234"), ("  42 ", "42"), ("-", "0"), ("\u2014", "0"), ("0.88", "0.88"), ("1\u00a0234", None),
])
def test_a_number_without_a_format(text, expected):
    if expected is None:
        with pytest.raises(TransformError, match="is not a number"):
            ixt.numeric(text, None)
    else:
        assert ixt.numeric(text, None) == Decimal(expected)
        assert ixt.numeric(text, "") == Decimal(expected)


@pytest.mark.parametrize("fmt,text,message", [
    ("ixt:num-dot-decimal", "1,23", "'1,23' is not a number with a decimal point"),
    ("ixt:num-dot-decimal", "12,5", "'12,5' is not a number with a decimal point"),
    ("ixt:num-comma-decimal", "1,234.5", "'1,234.5' is not a number with a decimal comma"),
    ("ixt:zero-dash", "0", "'0' is not a dash"),
    ("ixt:num-unit-decimal", "5 dollars", "'5 dollars' has no major and minor unit"),
    ("ixt:num-dot-decimals", "1", "unknown transformation 'ixt:num-dot-decimals'"),
    (None, "n/a", "'n/a' is not a number"),
])
def test_a_text_that_does_not_fit_is_refused_naming_it(fmt, text, message):
    with pytest.raises(TransformError) as caught:
        ixt.numeric(text, fmt)
    assert str(caught.value) == message


def test_known_numeric_formats():
    assert ixt.is_known_numeric(None) and ixt.is_known_numeric("")
    assert ixt.is_known_numeric("ixt:num-dot-decimal") and ixt.is_known_numeric("ixt-sec:numwordsen")
    assert not ixt.is_known_numeric("ixt:date-month-day") and not ixt.is_known_numeric("ixt:nonsense")


@pytest.mark.parametrize("fmt,text,expected", [
    ("ixt:date-month-day", "1/31", "--01-31"), ("ixt:datemonthdayslash", "2/3", "--02-03"),
    ("ixt:date-month-day", "1/1", "--01-01"), ("ixt:date-month-day", "12/31", "--12-31"),
    ("ixt:date-month-day-year", "07/01/99", "2099-07-01"), ("ixt:date-month-day-year", "07/01/100", "0100-07-01"),
    ("ixt:date-day-month", "31.12", "--12-31"), ("ixt:datedaymonthslash", "3/2", "--02-03"),
    ("ixt:date-monthname-day-en", "Jan. 5", "--01-05"), ("ixt:datemonthdayen", "Sept 30", "--09-30"),
    ("ixt:date-day-monthname-en", "5 March", "--03-05"), ("ixt:datedaymonthen", "30 Sep", "--09-30"),
    ("ixt:date-month-day-year", "07/01/23", "2023-07-01"), ("ixt:dateslashus", "12/31/2024", "2024-12-31"),
    ("ixt:datedotus", "2.1.2024", "2024-02-01"),
    ("ixt:date-day-month-year", "01/07/2023", "2023-07-01"), ("ixt:dateslasheu", "31/12/24", "2024-12-31"),
    ("ixt:datedoteu", "1.2.2024", "2024-02-01"),
    ("ixt:date-year-month-day", "2023/7/1", "2023-07-01"), ("ixt:date-year-month-day", "24-12-31", "2024-12-31"),
    ("ixt:datelongus", "February 3, 2024", "2024-02-03"), ("ixt:dateshortus", "Feb. 3, 24", "2024-02-03"),
    ("ixt:datemonthdayyearen", "Dec 31 2023", "2023-12-31"),
    ("ixt:datelonguk", "3 February 2024", "2024-02-03"), ("ixt:dateshortuk", "3 Feb 24", "2024-02-03"),
    ("ixt:datedaymonthyearen", "31 December, 2023", "2023-12-31"),
    ("ixt:date-day-monthname-year-en", "1 July 2023", "2023-07-01"),
    ("ixt:date-monthname-year-en", "July 23", "2023-07"), ("ixt:datemonthyearen", "Sept. 2024", "2024-09"),
    ("ixt:date-monthname-year-en", "July 99", "2099-07"), ("ixt:date-monthname-year-en", "July 100", "0100-07"),
    ("ixt:fixed-true", "Yes", "true"), ("ixt:booleantrue", "x", "true"),
    ("ixt:fixed-false", "No", "false"), ("ixt:booleanfalse", "", "false"),
    ("ixt:fixed-empty", "anything", ""), ("ixt:nocontent", "anything", ""),
])
def test_each_text_format(fmt, text, expected):
    assert ixt.text_value(text, fmt) == expected


@pytest.mark.parametrize("fmt,text", [
    ("ixt:date-month-day", "13/1"), ("ixt:date-month-day", "0/1"), ("ixt:date-month-day", "1/32"),
    ("ixt:date-month-day", "1/0"), ("ixt:date-day-month", "1/13"), ("ixt:date-month-day", "7"),
    ("ixt:date-monthname-day-en", "Smarch 3"), ("ixt:date-month-day-year", "2/30/2023"),
    ("ixt:date-year-month-day", "2023-07"), ("ixt:date-monthname-year-en", "2023"),
])
def test_a_date_that_does_not_fit_is_kept_as_written(fmt, text):
    assert ixt.text_value(text, fmt) == text


@pytest.mark.parametrize("fmt,text,expected", [
    (None, "  Apple\u00a0 Inc. ", "Apple Inc."), ("", "a  b", "a b"),
    ("ixt:some-future-format", " ten\n dollars ", "ten dollars"),
    ("ixt-sec:duryear", "1.5", "1.5"),
])
def test_text_without_a_known_format_is_the_text_with_whitespace_collapsed(fmt, text, expected):
    assert ixt.text_value(text, fmt) == expected
