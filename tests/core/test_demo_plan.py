"""The demo analyst's wording of a series (finstream/providers/demo_plan.py)."""

import asyncio

import pytest

from finstream.filings.ingest import ingest
from finstream.providers.demo_plan import Series, describe, series_from_result
from finstream.samples import sample_paths
from finstream.tools import default_toolbox
from finstream.tools.base import ToolContext


@pytest.fixture(scope="module")
def apple():
    path = sample_paths()[0]
    return ingest(path.name, path.read_bytes())


def quarterly(filing, metric: str) -> Series:
    box = default_toolbox()
    args = box.validate("get_financial_data", {"metric": metric, "period_type": "quarterly", "limit": 5})
    outcome = asyncio.run(box.execute("get_financial_data", args, ToolContext(filings=[filing])))
    series = series_from_result(metric, outcome.result)
    assert series is not None
    return series


def test_the_compound_rate_counts_the_quarters_between_the_dates_not_the_points(apple):
    # companyfacts has no Q4 EPS (it cannot be derived from FY minus 9M): five points, six quarters.
    eps = quarterly(apple, "eps")
    assert (eps.periods[0], eps.periods[-1], len(eps.periods)) == ("Q3 FY2024", "Q1 FY2026", 5)
    rate = ((eps.values[-1] / eps.values[0]) ** (1 / 6) - 1) * 100
    assert f"a compound rate of {rate:.1f}% a quarter." in describe(eps, "quarter")


def test_a_series_without_gaps_compounds_over_its_steps(apple):
    revenue = quarterly(apple, "revenue")  # Q1 FY2025 .. Q1 FY2026, Q4 derived: four quarters
    rate = ((revenue.values[-1] / revenue.values[0]) ** (1 / 4) - 1) * 100
    assert f"a compound rate of {rate:.1f}% a quarter." in describe(revenue, "quarter")
    years = Series("revenue", "Revenue", "USD", ["FY2021", "FY2023", "FY2024"], [100.0, 121.0, 133.1], [],
                   ends=["2021-09-25", "2023-09-30", "2024-09-28"])
    assert "a compound rate of 10.0% a year." in describe(years, "year")  # FY2022 missing: 3 years
    undated = Series("revenue", "Revenue", "USD", ["A", "B", "C"], [100.0, 110.0, 121.0], [])
    assert "a compound rate of 10.0% a year." in describe(undated, "year")  # no dates: the point count
