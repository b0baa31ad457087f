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
