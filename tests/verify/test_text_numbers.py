"""Finding the numbers of an answer's text: spans, values, units, signs and the periods named."""

from __future__ import annotations

from datetime import date

import pytest

from finstream.verify.numbers import find_numbers, scale_of
from finstream.verify.periods import Period, find_periods, matches, parse_period
from finstream.verify.text import claims_in


def found(text: str) -> list[tuple[str, float, str]]:
    return [(text[w.start : w.end], w.value, w.kind) for w in find_numbers(text)]


def test_money_percentages_counts_with_their_spans():
    text = ("Revenue was $391.0B in FY2024, up 2.0% from $383,285 million; EPS $6.08 per diluted share; "
            "15.1 billion shares and 164,000 employees.")
    assert found(text) == [
        ("$391.0B", 391.0e9, "money"),
        ("2.0%", 2.0, "percent"),
        ("$383,285 million", 383_285e6, "money"),
        ("$6.08 per diluted share", 6.08, "per_share"),
        ("15.1 billion shares", 15.1e9, "count"),
        ("164,000 employees", 164_000, "count"),
    ]


def test_negatives_parentheses_and_words_of_direction():
    text = "Loss from operations was $(4,863) million, (2.8)% lower; net income fell 1.0% and rose 3%."
    got = find_numbers(text)
    assert [(text[w.start : w.end], w.value) for w in got] == [
        ("$(4,863) million", -4_863e6), ("(2.8)%", -2.8), ("1.0%", 1.0), ("3%", 3.0),
    ]
    assert [w.direction for w in got[2:]] == [-1, 1]
    assert got[0].loss  # "Loss from operations"


def test_bare_numbers_are_not_figures():
    assert find_numbers("Item 7 of the 2024 10-K, page 56, note 3 (see 2023).") == []


def test_a_parenthesis_that_only_opens_is_punctuation():
    text = "net sales (up from $383.3B) grew"
    (w,) = find_numbers(text)
    assert text[w.start : w.end] == "$383.3B" and w.value == 383.3e9


def test_periods_as_analysts_write_them():
    assert parse_period("FY2024") == Period("FY", 2024)
    assert parse_period("fiscal 2024") == Period("FY", 2024)
    assert parse_period("FY24") == Period("FY", 2024)
    assert parse_period("Q2 FY2025") == Period("Q2", 2025)
    assert parse_period("Q2 2025") == Period("Q2", 2025)
    assert parse_period("the second quarter of fiscal 2025") == Period("Q2", 2025)
    assert parse_period("H1 FY2025") == Period("H1", 2025)
    assert parse_period("Q3 ended 2024-11-02") == Period("Q3", None, date(2024, 11, 2))
    assert parse_period("September 28, 2024") == Period(end=date(2024, 9, 28))
    assert [m.period for m in find_periods("from FY2021 to FY2025, and in 2023")] == [
        Period("FY", 2021), Period("FY", 2025), Period("FY", 2023, loose=True),
    ]


def test_period_matching():
    assert matches(Period("FY", 2024), Period("FY", 2024), date(2024, 9, 28))
    assert not matches(Period("FY", 2024), Period("FY", 2023), date(2023, 9, 30))
    assert not matches(Period("FY", 2024), Period("Q4", 2024), date(2024, 9, 28))
    assert matches(Period(end=date(2024, 9, 28)), None, date(2024, 9, 28))
    # A press release's "Q3 ended 2024-11-02" names no fiscal year: the quarter is all we can check.
    assert matches(Period("Q3", 2024), Period("Q3", None, date(2024, 11, 2)), date(2024, 11, 2))
    assert not matches(Period("Q2", 2024), Period("Q3", None, date(2024, 11, 2)), date(2024, 11, 2))
    # "in 2024" is FY2024, or the fiscal year that ends in calendar 2024
    assert matches(Period("FY", 2024, loose=True), Period("FY", 2025), date(2024, 12, 31))
    # A retailer's fiscal 2024 ends in February 2025: "FY2025" is not it, "in 2025" may be.
    assert not matches(Period("FY", 2025), Period("FY", 2024), date(2025, 2, 1))
    assert matches(Period("FY", 2025, loose=True), Period("FY", 2024), date(2025, 2, 1))
    assert not matches(Period("Q4", 2025, loose=True), Period("FY", 2024), date(2025, 2, 1))


def test_each_number_gets_the_period_written_after_it_or_named_before_it():
    text = ("Revenue was $391.0B in FY2024, up 2.0% from $383.3B in FY2023. "
            "Across FY2021–FY2024 it moved from $365.8B. In FY2024, net income was $93.7B, "
            "against $97.0B a year earlier.")
    claims = {c.text: c for c in claims_in(text)}
    assert claims["$391.0B"].period == Period("FY", 2024) and claims["$391.0B"].period_firm
    assert claims["$383.3B"].period == Period("FY", 2023) and claims["$383.3B"].period_firm
    assert set(claims["$365.8B"].periods) == {Period("FY", 2021), Period("FY", 2024)}
    assert not claims["$365.8B"].period_firm
    assert claims["$93.7B"].period == Period("FY", 2024) and not claims["$93.7B"].period_firm
    assert claims["$97.0B"].period == Period("FY", 2023)  # "a year earlier"
    assert claims["$391.0B"].concepts == ("revenue",) and claims["$93.7B"].concepts == ("net income",)
    assert claims["2.0%"].periods == (Period("FY", 2024), Period("FY", 2023))


def test_markdown_tables_take_periods_and_line_items_from_the_header():
    text = "Here:\n\n| Metric | FY2023 | FY2024 |\n|---|---|---|\n| Revenue | $383.3B | $391.0B |\n"
    claims = claims_in(text)
    assert [(c.text, c.period, c.concepts) for c in claims] == [
        ("$383.3B", Period("FY", 2023), ("Revenue",)),
        ("$391.0B", Period("FY", 2024), ("Revenue",)),
    ]


def test_scale_stated_by_units_and_notes():
    assert scale_of("USD millions") == 1e6
    assert scale_of("in thousands, except per share") == 1e3
    assert scale_of("$B") == 1e9
    assert scale_of("USD") is None and scale_of(None) is None


@pytest.mark.timeout(60)  # a hang guard: the check is linear (0.1 s); quadratic, this input took hours
def test_a_long_run_of_digits_in_model_text_is_read_as_one_number_in_linear_time():
    run = "7" * 200_000
    found = find_numbers(f"revenue grew {run}% and then {run} shares, (${run}) and {run} billion")
    assert [(w.kind, w.text) for w in found] == [
        ("percent", f"{run}%"), ("count", f"{run} shares"), ("money", f"(${run})"), ("number", f"{run} billion"),
    ]
