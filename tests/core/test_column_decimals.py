"""How many decimals a table column shows (the UI's tables and exports use it)."""

import pytest

from finstream.formatting import column_decimals


@pytest.mark.parametrize("values,most,expected", [
    ([26_974, 1_000_000], 2, 0),
    ([1.5, 2], 2, 1),
    ([1.25, 3.1], 2, 2),
    ([1.125], 2, 2),  # more than ``most`` is cut to ``most``
    ([1.125], 4, 3),
    ([0.3333333333], 4, 4),
    ([None, float("nan"), 2.5], 2, 1),
    ([], 2, 0),
    ([None], 3, 0),
    ([-0.05, 7], 2, 2),
    ([1e15 + 0.5], 2, 0),  # the tolerance is relative: half a unit of 1e15 is noise
    ([2.0000000001], 2, 0),  # within rounding noise of a whole number
    ([0.1 + 0.2], 2, 1),
    ([3], 0, 0), ([3.7], 0, 0),
])
def test_column_decimals(values, most, expected):
    assert column_decimals(values, most=most) == expected


def test_the_default_limit_is_two():
    assert column_decimals([1.23456]) == 2 and column_decimals([1.2]) == 1
