"""Chart figures as the page and the downloads draw them: money hovers and ticks, bars from zero,
a line axis that says when it does not start at zero, ranges that hold stacks and running totals."""

from __future__ import annotations

import pytest

from finstream.tools.charts import ChartInput, build_figure

X = ["FY2023", "FY2024"]


def figure(kind: str, *values: list[float], unit: str = "USD") -> dict:
    series = [{"name": f"s{i}", "values": v} for i, v in enumerate(values)]
    return build_figure(ChartInput(title="t", chart_type=kind, x=X, series=series, unit=unit))


def test_hovers_print_money_not_scientific_notation():
    fig = figure("line", [383285e6, 391035e6])
    assert [c[0] for c in fig["data"][0]["customdata"]] == ["$383.3B", "$391.0B"]
    assert "%{customdata[0]}" in fig["data"][0]["hovertemplate"] and ":,.4~g" not in fig["data"][0]["hovertemplate"]


@pytest.mark.parametrize("kind", ["bar", "grouped_bar", "area"])
def test_bar_like_charts_start_at_zero_with_money_ticks(kind):
    axis = figure(kind, [383285e6, 391035e6])["layout"]["yaxis"]
    assert axis["range"][0] == 0 and axis["ticktext"][0] == "$0"
    assert axis["range"][1] >= 391035e6 and all(t.startswith("$") for t in axis["ticktext"])
    assert "not from zero" not in axis["title"]["text"]


def test_a_line_axis_that_does_not_start_at_zero_says_so():
    axis = figure("line", [383285e6, 391035e6])["layout"]["yaxis"]
    assert axis["range"][0] > 0 and axis["title"]["text"] == "USD (not from zero)"
    low = figure("line", [-5.0, 10.0], unit="%")["layout"]["yaxis"]
    assert low["range"][0] < 0 and "not from zero" not in low["title"]["text"]


def test_stacked_and_waterfall_ranges_hold_their_totals():
    stacked = figure("stacked_bar", [300e9, 310e9], [90e9, 96e9])["layout"]["yaxis"]
    assert stacked["range"][1] >= 406e9
    waterfall = figure("waterfall", [100e9, 50e9])["layout"]["yaxis"]
    assert waterfall["range"][1] >= 150e9  # the running total, not the largest step
