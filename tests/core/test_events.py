"""The protocol: names, fields, SSE framing, schema export."""

import json

import pytest
from pydantic import ValidationError

from finstream import events as ev


def test_sse_frame_is_byte_exact():
    e = ev.TextDelta(seq=7, message_id="m1", text="a\nb", accumulated_text="x a\nb")
    assert ev.sse_frame(e, retry_ms=3000) == (
        "id: 7\nevent: text_delta\nretry: 3000\n"
        'data: {"seq":7,"message_id":"m1","type":"text_delta","text":"a\\nb","accumulated_text":"x a\\nb"}\n\n'
    )


def test_accumulated_text_can_be_turned_off():
    e = ev.TextDelta(seq=1, message_id="m", text="b", accumulated_text="ab")
    assert "accumulated_text" not in ev.event_to_dict(e, accumulated=False)
    assert "accumulated_text" not in ev.sse_frame(e, accumulated=False)
    assert ev.event_to_dict(e)["accumulated_text"] == "ab"


def test_seed_event_names_and_fields_are_kept():
    schema = ev.json_schema()
    names = {d["properties"]["type"]["const"] for d in schema["$defs"].values() if "type" in d.get("properties", {})}
    assert {"message_start", "text_delta", "tool_start", "tool_complete", "chart_ready", "table_ready",
            "metric_ready", "message_complete", "error"} <= names
    required = {
        "MessageStart": {"message_id", "conversation_id"},
        "TextDelta": {"text"},
        "ToolStart": {"tool_id", "tool_name"},
        "ToolComplete": {"tool_id"},
        "ChartReady": {"chart_data", "chart_index"},
        "TableReady": {"table_data", "table_index"},
        "MetricReady": {"metric_data", "metric_index"},
        "MessageComplete": {"success"},
        "Error": {"code", "message"},
    }
    for name, fields in required.items():
        props = schema["$defs"][name]["properties"]
        assert fields <= set(props), name
        assert all(p.get("description") for p in props.values()), name


def test_unknown_fields_and_types_are_rejected():
    with pytest.raises(ValidationError):
        ev.parse_event({"type": "text_delta", "message_id": "m", "text": "x", "surprise": 1})
    with pytest.raises(ValidationError):
        ev.parse_event({"type": "nope", "message_id": "m"})


def test_round_trip_json():
    e = ev.MessageComplete(seq=3, message_id="m", success=False, stop_reason="error", usage=ev.Usage(input_tokens=5))
    assert ev.parse_event(ev.event_to_json(e)) == e
    assert json.loads(ev.event_to_json(e))["usage"] == {
        "input_tokens": 5, "output_tokens": 0, "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0, "cost_usd": None, "model": None,
    }
