"""Feedback and question versions on SQLite and the real PostgreSQL: stored, replaced, cleared,
deleted with the conversation; versions chained by ``replaces`` into one exchange whose current
version is the model's history."""

from __future__ import annotations

import pytest

from finstream.store import MessagePatch, NotFoundError, Turn
from finstream.store.protocols import ApiStore, EventLog
from finstream.store.versions import history_pairs, root_of, threads


async def _answer(store: EventLog, cid: str, question: str, text: str, replaces: str | None = None) -> Turn:
    turn = await store.begin_turn(cid, question, owner="test", replaces=replaces)
    await store.append_batch(cid, [], message_id=turn.assistant.id,
                             patch=MessagePatch(append_text=text, status="complete", release=True))
    return turn


async def test_feedback_is_set_changed_cleared_and_deleted_with_the_conversation(astore: ApiStore):
    cid = (await astore.create_conversation("t")).id
    turn = await _answer(astore, cid, "Revenue?", "Revenue was $391.0B.")
    mid = turn.assistant.id
    assert await astore.list_feedback(cid) == {}
    await astore.set_feedback(mid, 0, "wrong year")
    await astore.set_feedback(mid, 1, "")
    item = (await astore.list_feedback(cid))[mid]
    assert (item.rating, item.comment, item.conversation_id) == (1, "", cid)
    assert await astore.set_feedback(mid, None) is None and await astore.list_feedback(cid) == {}
    with pytest.raises(NotFoundError):
        await astore.set_feedback(turn.user.id, 1)  # a question is not rated
    with pytest.raises(ValueError, match="rating"):
        await astore.set_feedback(mid, 5)
    await astore.set_feedback(mid, 0, "x")
    assert await astore.delete_conversation(cid)
    assert await astore.list_feedback(cid) == {}


async def test_versions_chain_into_one_exchange_and_history_uses_the_latest(astore: ApiStore):
    cid = (await astore.create_conversation("t")).id
    first = await _answer(astore, cid, "Revenue trend?", "v1")
    second = await _answer(astore, cid, "Net income?", "other")
    again = await _answer(astore, cid, "Revenue trend?", "v2", replaces=first.user.id)
    edited = await _answer(astore, cid, "Revenue trend by quarter?", "v3", replaces=again.user.id)
    messages = await astore.list_messages(cid)
    assert [m.replaces for m in messages if m.role == "user"] == [None, None, first.user.id, again.user.id]
    exchanges = threads(messages)
    assert [t.root for t in exchanges] == [first.user.id, second.user.id]
    assert [p.answer.text for p in exchanges[0].versions] == ["v1", "v2", "v3"]
    assert [p.question.text for p in history_pairs(messages)] == ["Revenue trend by quarter?", "Net income?"]
    assert history_pairs(messages, before_root=second.user.id)[0].answer.id == edited.assistant.id
    assert root_of(messages, again.assistant.id) == first.user.id
