"""Regenerate and edit through the RunManager: a new version of the exchange, the earlier one
kept, and the model shown only the history before that exchange (current versions)."""

from __future__ import annotations

from finstream.providers.scripted import text_step
from tests.runs.conftest import Env


async def finish(env: Env, cid: str, mid: str) -> None:
    await env.manager.wait(mid)


async def test_regenerate_and_edit_ask_again_with_the_right_history(sqlite_db):
    env = Env(sqlite_db)
    try:
        env.provider.add(text_step("A1"), text_step("B1"), text_step("A2"), text_step("A3"))
        cid = env.store.create_conversation().id
        first = await env.manager.start(cid, "Revenue?")
        await finish(env, cid, first)
        second = await env.manager.start(cid, "Net income?")
        await finish(env, cid, second)
        # Regenerate the first answer: the model sees the question alone (nothing before it).
        again = await env.manager.ask_again(cid, first)
        await finish(env, cid, again)
        assert env.provider.requests[2].messages == [{"role": "user", "content": "Revenue?"}]
        # Edit the first question: asked with its new text, replacing the current version.
        edited = await env.manager.ask_again(cid, again, "Revenue by quarter?")
        await finish(env, cid, edited)
        assert env.provider.requests[3].messages == [{"role": "user", "content": "Revenue by quarter?"}]
        messages = env.store.list_messages(cid)
        assert [m.text for m in messages if m.role == "assistant"] == ["A1", "B1", "A2", "A3"]
        users = [m for m in messages if m.role == "user"]
        assert users[2].replaces == users[0].id and users[3].replaces == users[2].id
        # A new question now goes with the current version of each exchange, in asked order.
        env.provider.add(text_step("C1"))
        third = await env.manager.start(cid, "Cash?")
        await finish(env, cid, third)
        assert env.provider.requests[4].messages == [
            {"role": "user", "content": "Revenue by quarter?"},
            {"role": "assistant", "content": [{"type": "text", "text": "A3"}]},  # echoed as received
            {"role": "user", "content": "Net income?"},
            {"role": "assistant", "content": [{"type": "text", "text": "B1"}]},
            {"role": "user", "content": "Cash?"},
        ]
        env.provider.assert_consumed()
    finally:
        await env.close()


async def test_a_conversation_from_before_the_transcript_is_asked_with_its_text_history(db):
    """Messages without transcript rows (written before the transcript existed): the next question
    goes to the model after their text, alternating roles, and that history is written into the
    transcript once, so the question after it builds on the same rows."""
    from finstream.store import MessagePatch

    env = Env(db)
    try:
        cid = env.store.create_conversation().id
        old = env.store.begin_turn(cid, "Revenue?")
        env.store.append_batch(cid, [], message_id=old.assistant.id,
                               patch=MessagePatch(append_text="Revenue was $1B.", status="complete", release=True))
        assert not env.store.has_api_messages(cid)
        env.provider.add(text_step("Margins were 40%."), text_step("Cash was $2B."))
        await finish(env, cid, await env.manager.start(cid, "Margins?"))
        assert env.provider.requests[0].messages == [
            {"role": "user", "content": "Revenue?"},
            {"role": "assistant", "content": "Revenue was $1B."},
            {"role": "user", "content": "Margins?"},
        ]
        await finish(env, cid, await env.manager.start(cid, "Cash?"))
        assert env.provider.requests[1].messages[:3] == env.provider.requests[0].messages
        assert env.provider.requests[1].messages[-1] == {"role": "user", "content": "Cash?"}
        env.provider.assert_consumed()
    finally:
        await env.close()


async def test_asking_in_a_conversation_that_does_not_exist_is_not_found(db):
    import pytest

    from finstream.store import NotFoundError

    env = Env(db)
    try:
        with pytest.raises(NotFoundError):
            await env.manager.start("no-such-conversation", "Revenue?")
    finally:
        await env.close()
