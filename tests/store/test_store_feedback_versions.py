"""Feedback and question versions on SQLite and the real PostgreSQL: stored, replaced, cleared,
deleted with the conversation; versions chained by ``replaces`` into one exchange whose current
version is the model's history."""

from __future__ import annotations

import pytest

from finstream.store import MessagePatch, NotFoundError
from finstream.store.versions import history_pairs, root_of, threads


def _answer(store, cid: str, question: str, text: str, replaces: str | None = None):  # noqa: ANN001, ANN202
    turn = store.begin_turn(cid, question, owner="test", replaces=replaces)
    store.append_batch(cid, [], message_id=turn.assistant.id,
                       patch=MessagePatch(append_text=text, status="complete", release=True))
    return turn


def test_feedback_is_set_changed_cleared_and_deleted_with_the_conversation(store):
    cid = store.create_conversation("t").id
    turn = _answer(store, cid, "Revenue?", "Revenue was $391.0B.")
    mid = turn.assistant.id
    assert store.list_feedback(cid) == {}
    store.set_feedback(mid, 0, "wrong year")
    store.set_feedback(mid, 1, "")
    item = store.list_feedback(cid)[mid]
    assert (item.rating, item.comment, item.conversation_id) == (1, "", cid)
    assert store.set_feedback(mid, None) is None and store.list_feedback(cid) == {}
    with pytest.raises(NotFoundError):
        store.set_feedback(turn.user.id, 1)  # a question is not rated
    with pytest.raises(ValueError, match="rating"):
        store.set_feedback(mid, 5)
    store.set_feedback(mid, 0, "x")
    assert store.delete_conversation(cid)
    assert store.list_feedback(cid) == {}


def test_versions_chain_into_one_exchange_and_history_uses_the_latest(store):
    cid = store.create_conversation("t").id
    first = _answer(store, cid, "Revenue trend?", "v1")
    second = _answer(store, cid, "Net income?", "other")
    again = _answer(store, cid, "Revenue trend?", "v2", replaces=first.user.id)
    edited = _answer(store, cid, "Revenue trend by quarter?", "v3", replaces=again.user.id)
    messages = store.list_messages(cid)
    assert [m.replaces for m in messages if m.role == "user"] == [None, None, first.user.id, again.user.id]
    exchanges = threads(messages)
    assert [t.root for t in exchanges] == [first.user.id, second.user.id]
    assert [p.answer.text for p in exchanges[0].versions] == ["v1", "v2", "v3"]
    assert [p.question.text for p in history_pairs(messages)] == ["Revenue trend by quarter?", "Net income?"]
    assert history_pairs(messages, before_root=second.user.id)[0].answer.id == edited.assistant.id
    assert root_of(messages, again.assistant.id) == first.user.id
