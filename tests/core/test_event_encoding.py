"""Events as JSON (what the CLI's --jsonl, SSE and WebSocket send) and the optional reasoning."""

import json
from datetime import date

from finstream import events as ev


def test_event_json_is_compact_and_keeps_accumulated_text_unless_told():
    e = ev.TextDelta(seq=2, message_id="m", text="b", accumulated_text="ab")
    assert ev.event_to_json(e) == (
        '{"seq":2,"message_id":"m","type":"text_delta","text":"b","accumulated_text":"ab"}')
    assert json.loads(ev.event_to_json(e, accumulated=False)) == {
        "seq": 2, "message_id": "m", "type": "text_delta", "text": "b"}


def test_values_that_json_lacks_are_encoded_as_json_types():
    e = ev.ToolComplete(seq=3, message_id="m", tool_id="t", tool_name="x", input=None,
                        result={"on": date(2024, 9, 28)}, error=None)
    data = ev.event_to_dict(e)
    assert data["result"] == {"on": "2024-09-28"}
    assert json.loads(ev.event_to_json(e))["result"] == {"on": "2024-09-28"}


def test_only_other_event_types_keep_accumulated_text_when_it_is_dropped():
    start = ev.MessageStart(seq=1, message_id="m", conversation_id="c")
    assert ev.event_to_dict(start, accumulated=False) == ev.event_to_dict(start)


def test_reasoning_is_sent_only_to_consumers_that_want_it():
    thinking = ev.ThinkingDelta(seq=1, message_id="m", text="hm")
    text = ev.TextDelta(seq=2, message_id="m", text="a", accumulated_text="a")
    assert ev.wanted(thinking) and ev.wanted(thinking, thinking=True)
    assert not ev.wanted(thinking, thinking=False)
    assert ev.wanted(text, thinking=False) and ev.wanted(text)
