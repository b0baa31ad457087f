"""The API transcript (api_messages) on SQLite and PostgreSQL: blocks come back byte-for-byte the
same JSON they went in as (what the prefix check and signatures depend on), in order, per
conversation, and go with their conversation."""

from __future__ import annotations

import json

from tests.store.conftest import TranscriptStore

ASSISTANT = [
    {"type": "thinking", "thinking": "Revenue first — then margins: “FY2024”.", "signature": "c2ln/+=="},
    {"type": "redacted_thinking", "data": "EuYBCkQYAiJA"},
    {"type": "text", "text": "Let me pull revenue.\n\n"},
    {"type": "tool_use", "id": "toolu_01", "name": "get_financial_data",
     "input": {"metric": "revenue", "limit": 5, "values": [391035000000.0, 0.1, -2.8e-05], "z": None, "a": True}},
]
RESULTS = [{"type": "tool_result", "tool_use_id": "toolu_01", "content": '{"points": []}', "is_error": False}]


async def test_rows_round_trip_exactly_in_order(astore: TranscriptStore):
    c = await astore.create_conversation()
    other = await astore.create_conversation()
    await astore.append_api_messages(c.id, "m1", [{"role": "user", "content": "Revenue?"}])
    await astore.append_api_messages(c.id, "m1", [{"role": "assistant", "content": ASSISTANT},
                                          {"role": "user", "content": RESULTS}],
                              {"model": "claude-sonnet-5-5", "system": "abc", "text_end": 22})
    await astore.append_api_messages(other.id, "m9", [{"role": "user", "content": "Other?"}])
    rows = await astore.api_messages(c.id)
    assert [(r.idx, r.role, r.message_id) for r in rows] == [(1, "user", "m1"), (2, "assistant", "m1"),
                                                              (3, "user", "m1")]
    assert rows[0].content == "Revenue?"
    assert json.dumps(rows[1].content) == json.dumps(ASSISTANT)  # same keys, order and values
    assert rows[2].content == RESULTS
    assert rows[1].meta == {"model": "claude-sonnet-5-5", "system": "abc", "text_end": 22}
    assert [r.idx for r in await astore.api_messages(other.id)] == [1]
    await astore.append_api_messages(c.id, "m1", [])  # nothing to add: nothing written
    assert len(await astore.api_messages(c.id)) == 3


async def test_rows_go_with_their_conversation(astore: TranscriptStore):
    c = await astore.create_conversation()
    await astore.append_api_messages(c.id, "m1", [{"role": "user", "content": "Revenue?"}])
    assert await astore.delete_conversation(c.id)
    assert await astore.api_messages(c.id) == []


def test_has_api_messages_tells_without_reading(store):
    """The ask's set-up checks whether a conversation has a transcript before it reads any of it."""
    c, other = store.create_conversation(), store.create_conversation()
    assert not store.has_api_messages(c.id) and not store.has_api_messages("no-such-conversation")
    store.append_api_messages(c.id, "m1", [{"role": "user", "content": "Revenue?"}])
    assert store.has_api_messages(c.id) and not store.has_api_messages(other.id)
    assert store.delete_conversation(c.id)
    assert not store.has_api_messages(c.id)
