"""Whole turns through the agent loop with the scripted provider and the real tools on Apple's
FY2024 10-K: a model that mistypes a metric, cites the wrong period in a chart, writes a wrong
number in its text, derives a growth rate, and passes fact ids — each number gets its mark in the
emitted events, and the events keep to the published JSON Schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from finstream.agent import Turn, run_turn
from finstream.events import event_to_dict, json_schema, parse_event
from finstream.providers.scripted import ScriptedProvider, text_step, tool_step
from finstream.tools import default_toolbox

AAPL_10K = "aapl-10-k-2024-11-01.html"
REVENUE = "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"
SRC = [{"document": AAPL_10K, "concept": REVENUE, "period": "FY2024"}]
TEXT = ("Revenue was $391.0B in FY2024, up 2.0% from $383.3B in FY2023. "
        "Net income was $412.3B in FY2024, and revenue was $383.3B in FY2024.")


def tool_results(request) -> dict[str, object]:
    """The last user message's tool results, by tool_use id, decoded."""
    blocks = request.messages[-1]["content"]
    return {b["tool_use_id"]: json.loads(b["content"]) for b in blocks if not b.get("is_error")}


def artifacts_step(request):
    (revenue,) = tool_results(request).values()
    ids = {p["period"]: p["fact_id"] for p in revenue["points"]}
    return tool_step(
        ("create_metric", {"label": "Revenue FY2024", "value": 412.3e9, "unit": "USD", "period": "FY2024",
                           "sources": SRC}),
        ("create_chart", {"title": "Revenue", "chart_type": "bar", "x": ["FY2022", "FY2023", "FY2024"],
                          "series": [{"name": "Revenue", "values": [394.328, 383.285, 383.285]}],
                          "unit": "USD", "y_label": "USD billions"}),
        ("create_metric", {"label": "Revenue growth FY2024", "value": 2.02, "unit": "%", "period": "FY2024"}),
        ("create_metric", {"label": "Revenue FY2024", "fact_id": ids["FY2024"], "unit": "USD",
                           "delta": 2.02}),
        ("create_table", {"title": "Revenue", "columns": [{"name": "Period", "format": "text"},
                                                          {"name": "Revenue", "format": "currency"}],
                          "rows": [["FY2023", None], ["FY2024", None]], "unit_note": "USD millions",
                          "fact_ids": [[None, ids["FY2023"]], [None, ids["FY2024"]]]}),
        ("create_metric", {"label": "Revenue FY2024", "fact_id": "f_000000000000"}),
    )


@pytest.fixture(scope="module")
def turn_events(filing):
    import asyncio

    apple = filing(AAPL_10K)
    provider = ScriptedProvider([
        tool_step(("get_financial_data", {"metric": "revenue", "filing": AAPL_10K})),
        artifacts_step,
        text_step(TEXT),
    ])
    turn = Turn("conv", "msg", [{"role": "user", "content": "How did revenue do?"}], [apple])

    async def collect():
        return [e async for e in run_turn(provider, default_toolbox(), turn)]

    events = asyncio.run(collect())
    provider.assert_consumed()
    return events, provider


def checks_of(event) -> list[dict]:
    kind = event.type.removesuffix("_ready")
    return getattr(event, f"{kind}_data")["verification"]


def test_the_turn_ends_with_the_text_check_then_message_complete(turn_events):
    events, _ = turn_events
    assert [e.type for e in events[-3:]] == ["text_delta", "verification", "message_complete"]
    assert events[-1].success
    schema = json_schema()
    for e in events:  # every event, the new one included, keeps to the published schema
        jsonschema.validate(event_to_dict(e), schema)
        assert parse_event(e.model_dump_json()) == e


def test_a_mistyped_metric_is_unverified_and_the_model_is_told(turn_events):
    events, provider = turn_events
    tile = next(e for e in events if e.type == "metric_ready" and e.metric_index == 0)
    (value,) = checks_of(tile)
    assert value["status"] == "unverified" and value["where"] == "value"
    assert "$391.0B" in value["reason"] and value["facts"][0]["value"] == 391_035_000_000
    told = tool_results(provider.requests[2])
    assert any("unverified" in r and "$391.0B" in r["unverified"][0] for r in told.values())


def test_a_chart_point_for_the_wrong_period_is_unverified(turn_events):
    events, _ = turn_events
    chart = next(e for e in events if e.type == "chart_ready")
    marks = {c["where"]: c for c in checks_of(chart)}
    assert marks["Revenue @ FY2022"]["status"] == "verified"
    assert marks["Revenue @ FY2023"]["status"] == "verified"
    wrong = marks["Revenue @ FY2024"]
    assert wrong["status"] == "unverified" and wrong["reason"].startswith("wrong period")
    assert wrong["facts"][0]["period"] == "FY2023"


def test_a_growth_rate_recomputed_from_two_facts_is_derived(turn_events):
    events, _ = turn_events
    tile = next(e for e in events if e.type == "metric_ready" and e.metric_index == 1)
    (value,) = checks_of(tile)
    assert value["status"] == "derived" and value["formula"] == "growth"
    assert [f["value"] for f in value["facts"]] == [383_285_000_000, 391_035_000_000]


def test_values_given_by_fact_id_are_filled_from_the_filing(turn_events):
    events, _ = turn_events
    tile = next(e for e in events if e.type == "metric_ready" and e.metric_index == 2).metric_data
    assert tile["value"] == 391_035_000_000 and tile["display"] == "$391.0B" and tile["period"] == "FY2024"
    assert tile["sources"][0]["concept"] == REVENUE and tile["sources"][0]["document"] == AAPL_10K
    assert [c["status"] for c in tile["verification"]] == ["verified", "derived"]
    table = next(e for e in events if e.type == "table_ready").table_data
    assert [r[1] for r in table["rows"]] == [383_285.0, 391_035.0]  # in the unit_note's millions
    assert [c["status"] for c in table["verification"]] == ["verified", "verified"]


def test_an_unknown_fact_id_fails_the_call_so_the_model_can_correct_it(turn_events):
    events, _ = turn_events
    failed = [e for e in events if e.type == "tool_complete" and e.error]
    assert len(failed) == 1 and "unknown fact id 'f_000000000000'" in failed[0].error
    assert sum(e.type == "metric_ready" for e in events) == 3


def test_the_numbers_of_the_text_are_marked(turn_events):
    events, _ = turn_events
    check = events[-2]
    assert check.scope == "text"
    text = "".join(e.text for e in events if e.type == "text_delta")
    got = [(text[c.span[0]: c.span[1]], c.status) for c in check.checks]
    assert got == [("$391.0B", "verified"), ("2.0%", "derived"), ("$383.3B", "verified"),
                   ("$412.3B", "unverified"), ("$383.3B", "unverified")]
    # Net income was never fetched; the reason still names the filing's own FY2024 figure.
    assert check.checks[3].reason.startswith("no fact equals $412.3B") and "FY2024 is $93.7B" in check.checks[3].reason
    assert check.checks[4].reason.startswith("wrong period") and "FY2023" in check.checks[4].reason
