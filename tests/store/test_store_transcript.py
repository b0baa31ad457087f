"""The API transcript (api_messages) on SQLite and PostgreSQL: blocks come back byte-for-byte the
same JSON they went in as (what the prefix check and signatures depend on), in order, per
conversation, and go with their conversation."""

from __future__ import annotations

import json

ASSISTANT = [
    {"type": "thinking", "thinking": "Revenue first — then margins: “FY2024”.", "signature": "c2ln/+=="},
    {"type": "redacted_thinking", "data": "EuYBCkQYAiJA"},
    {"type": "text", "text": "Let me pull revenue.\n\n"},
    {"type": "tool_use", "id": "toolu_01", "name": "get_financial_data",
     "input": {"metric": "revenue", "limit": 5, "values": [391035000000.0, 0.1, -2.8e-05], "z": None, "a": True}},
]
RESULTS = [{"type": "tool_result", "tool_use_id": "toolu_01", "content": '{"points": []}', "is_error": False}]


def test_rows_round_trip_exactly_in_order(store):
    c = store.create_conversation()
    other = store.create_conversation()
    store.append_api_messages(c.id, "m1", [{"role": "user", "content": "Revenue?"}])
    store.append_api_messages(c.id, "m1", [{"role": "assistant", "content": ASSISTANT},
                                          {"role": "user", "content": RESULTS}],
                              {"model": "claude-sonnet-5-5", "system": "abc", "text_end": 22})
    store.append_api_messages(other.id, "m9", [{"role": "user", "content": "Other?"}])
    rows = store.api_messages(c.id)
    assert [(r.idx, r.role, r.message_id) for r in rows] == [(1, "user", "m1"), (2, "assistant", "m1"),
                                                              (3, "user", "m1")]
    assert rows[0].content == "Revenue?"
    assert json.dumps(rows[1].content) == json.dumps(ASSISTANT)  # same keys, order and values
    assert rows[2].content == RESULTS
    assert rows[1].meta == {"model": "claude-sonnet-5-5", "system": "abc", "text_end": 22}
    assert [r.idx for r in store.api_messages(other.id)] == [1]
    store.append_api_messages(c.id, "m1", [])  # nothing to add: nothing written
    assert len(store.api_messages(c.id)) == 3


def test_rows_go_with_their_conversation(store):
    c = store.create_conversation()
    store.append_api_messages(c.id, "m1", [{"role": "user", "content": "Revenue?"}])
    assert store.delete_conversation(c.id)
    assert store.api_messages(c.id) == []
