"""The output tools' numbers: stated scales are honoured, unstated ones inferred (and said), a
metric's value must be in units, signs and deltas are kept, and fact ids are stable."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from finstream.filings.model import Fact, Filing, Source
from finstream.tools.outputs import ChartInput, MetricInput, TableInput
from finstream.verify.artifacts import verify_chart, verify_metric, verify_table
from finstream.verify.facts import FactIndex, fact_id, id_of

REV = "us-gaap:Revenues"


def fact(value: float, fy: int, concept: str = REV, label: str = "Revenue") -> Fact:
    return Fact(concept=concept, label=label, value=value, period_start=date(fy - 1, 10, 1),
                period_end=date(fy, 9, 28), source=Source(document="a.htm", concept=concept, period=f"FY{fy}"))


FACTS = [fact(383_285e6, 2023), fact(391_035e6, 2024), fact(93_736e6, 2024, "us-gaap:NetIncomeLoss", "Net income")]


def index(*, looked_up: bool = True) -> FactIndex:
    idx = FactIndex([Filing(filename="a.htm", format="ixbrl", facts=FACTS)])
    if looked_up:
        from finstream.verify.facts import known_from_fact

        for f in FACTS:
            k = known_from_fact(f)
            k.origin = "series"
            idx.add(k)
    return idx


def statuses(checks) -> list[str]:
    return [c.status for c in checks]


def test_a_metric_value_must_be_in_units():
    ok = MetricInput(label="Revenue FY2024", value=391_035_000_000, period="FY2024")
    assert statuses(verify_metric(ok, index())[1]) == ["verified"]
    in_billions = MetricInput(label="Revenue FY2024", value=391.0, period="FY2024")
    (check,) = verify_metric(in_billions, index())[1]
    assert check.status == "unverified" and check.text == "$391"  # 391 dollars, as the tile would show


def test_a_metric_delta_keeps_its_sign():
    up = MetricInput(label="Revenue FY2024", value=391_035_000_000, period="FY2024", delta=2.02)
    assert statuses(verify_metric(up, index())[1]) == ["verified", "derived"]
    down = MetricInput(label="Revenue FY2024", value=391_035_000_000, period="FY2024", delta=-2.02)
    assert statuses(verify_metric(down, index())[1]) == ["verified", "unverified"]


def chart(values, **kw) -> ChartInput:
    return ChartInput(title="Revenue", x=["FY2023", "FY2024"], series=[{"name": "Revenue", "values": values}], **kw)


def test_a_chart_scale_stated_is_honoured_and_one_not_stated_is_inferred():
    stated = verify_chart(chart([383_285, 391_035], unit="USD", y_label="USD millions"), index())[1]
    assert statuses(stated) == ["verified", "verified"]
    wrong_scale = verify_chart(chart([383.285, 391.035], unit="USD", y_label="USD millions"), index())[1]
    assert statuses(wrong_scale) == ["unverified", "unverified"]
    inferred = verify_chart(chart([383.3, 391.0], unit="USD"), index())[1]
    assert statuses(inferred) == ["verified", "verified"] and "read as billions" in inferred[0].reason


def test_a_chart_point_in_the_wrong_period_and_a_swapped_series():
    swapped = verify_chart(chart([391.035e9, 383.285e9], unit="USD"), index())[1]
    assert statuses(swapped) == ["unverified", "unverified"]
    assert all(c.reason.startswith("wrong period") for c in swapped)


def test_a_table_in_millions_with_a_percent_column():
    spec = TableInput(
        title="Figures", unit_note="USD millions",
        columns=[{"name": "Period"}, {"name": "Revenue", "format": "currency"},
                 {"name": "Net margin", "format": "percent"}],
        rows=[["FY2024", 391_035.0, 24.0], ["FY2023", 391_035.0, None]],
    )
    checks = verify_table(spec, index())[1]
    assert [(c.where, c.status) for c in checks] == [
        ("row 1, Revenue", "verified"), ("row 1, Net margin", "derived"), ("row 2, Revenue", "unverified"),
    ]


def test_fact_ids_are_pinned_and_change_with_every_part():
    assert id_of(FACTS[1]) == fact_id("a.htm", REV, date(2023, 10, 1), date(2024, 9, 28), "USD")
    assert id_of(FACTS[1]) == "f_" + __import__("hashlib").sha1(
        "\x1f".join(["a.htm", REV, "2023-10-01", "2024-09-28", "USD", "", ""]).encode()).hexdigest()[:12]


parts = st.tuples(st.text(max_size=8), st.text(max_size=8), st.dates(), st.dates(), st.text(max_size=4),
                  st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2), st.text(max_size=6))


@given(parts, st.integers(min_value=0, max_value=6), st.text(min_size=1, max_size=3))
def test_any_change_to_a_fact_changes_its_id(base, which, extra):
    changed = list(base)
    if which in (2, 3):
        day = base[which]
        changed[which] = day + timedelta(days=1) if day < date.max else day - timedelta(days=1)
    elif which == 5:
        changed[5] = {**base[5], "\x00" + extra: "x"}
    else:
        changed[which] = base[which] + extra
    assert fact_id(*base) == fact_id(*base)
    assert fact_id(*changed) != fact_id(*base)


def test_a_table_result_is_scaled_by_its_unit_note():
    idx = FactIndex([])
    idx.add_tool_result("get_table", {"filing": "x.pdf", "index": 0, "title": "Results",
                                      "columns": ["Item", "2024"], "rows": [["Net sales", 12_345.0]],
                                      "unit_note": "In millions"})
    (k,) = idx.pool
    assert k.value == 12_345e6 and k.origin == "table"


def test_a_figure_quoted_from_a_passage_that_names_no_period_verifies_in_any():
    from finstream.verify.text import check_text

    idx = FactIndex([])
    idx.add_tool_result("search_filing", {"results": [
        {"filing": "x.htm", "section": "MD&A", "text": "Net sales rose to $12.5 million."}]})
    (check,) = check_text("Net sales were $12.5 million in FY2024.", idx)
    assert check.status == "verified" and "quoted in MD&A" in check.reason


def test_chart_values_given_by_fact_id_are_filled_at_the_stated_scale():
    spec = ChartInput(title="Revenue", x=["FY2023", "FY2024"], unit="USD", y_label="USD millions",
                      series=[{"name": "Revenue", "fact_ids": [id_of(FACTS[0]), id_of(FACTS[1])]}])
    filled, checks = verify_chart(spec, index())
    assert filled.series[0].values == [383_285.0, 391_035.0]
    assert statuses(checks) == ["verified", "verified"]
    assert [s.concept for s in filled.series[0].sources] == [REV, REV]
