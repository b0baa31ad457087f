"""LISTEN/NOTIFY: a follower in another process (here: another RunManager with its own engine and
listening connection on the same PostgreSQL schema) is woken by each committed batch. Polling is
set to a minute, so only notifications can carry the stream; a broken listener falls back to
polling."""

from __future__ import annotations

import asyncio

import pytest

from finstream.providers.scripted import Gate, Pause, ScriptedProvider, text_parts, text_step
from finstream.runs import RunManager
from finstream.store import AsyncStore, Store
from finstream.store.notify import LogListener, channel_for
from tests.runs.conftest import TOOLBOX, settings
from tests.support.db import PG_URL, drop_schema, fresh_schema, require_pg

HANG_GUARD = 30  # seconds: only a broken wake-up path gets anywhere near this


@pytest.fixture
def two_replicas():
    require_pg()
    schema = fresh_schema()
    a, b = Store(PG_URL, schema=schema), Store(PG_URL, schema=schema)
    yield a, b
    a.close()
    b.close()
    drop_schema(schema)


def test_channel_is_per_schema_and_short():
    assert channel_for(None) == "finstream_log"
    assert channel_for("fs_a") != channel_for("fs_b")
    assert len(channel_for("s" * 63)) <= 63


async def test_remote_follower_woken_by_notify_not_polling(two_replicas):
    store_a, store_b = two_replicas
    gate = asyncio.Event()
    provider = ScriptedProvider([[*text_parts("first part of the answer "), Gate(gate),
                                  *text_step("and the rest of it.")]])
    writer = RunManager(AsyncStore(store_a), lambda: provider, TOOLBOX, settings(), listen=False)
    follower = RunManager(AsyncStore(store_b), lambda: None, TOOLBOX, settings(),
                          poll_interval=60, notify_fallback=60)
    cid = store_a.create_conversation().id
    try:
        mid = await writer.start(cid, "q")
        got: list = []

        async def follow() -> None:
            async for event in follower.tail(cid, message_id=mid, accumulated=False):
                got.append(event)
                if len(got) == 3:
                    gate.set()  # the rest is written only after the follower saw the start

        await asyncio.wait_for(follow(), HANG_GUARD)
        assert follower.tailer.listener is not None and follower.tailer.listener.received > 0
        logged = store_a.read_events(cid)
        assert [e.model_dump() for e in got] == [e.model_dump() for e in logged]
        assert got[-1].type == "message_complete" and got[-1].success
        assert [e.seq for e in got] == list(range(1, len(got) + 1))
    finally:
        await writer.shutdown()
        await follower.shutdown()


async def test_listener_wait_sees_commit_and_ignores_other_conversations(two_replicas):
    store_a, _ = two_replicas
    from finstream.store.notify import libpq_url

    listener = LogListener(libpq_url(store_a.engine), store_a.notify_channel,
                           options=f"-csearch_path={store_a.schema}")
    try:
        assert await listener.ready()
        watched = store_a.create_conversation().id
        other = store_a.create_conversation().id
        listener.watch(watched)
        for cid in (other, watched):
            store_a.begin_turn(cid, "q")
        from finstream import events as ev

        mid = store_a.get_conversation(watched).active_message_id
        omid = store_a.get_conversation(other).active_message_id
        store_a.append_batch(other, [ev.MessageStart(seq=1, message_id=omid, conversation_id=other)])
        assert not await listener.wait(watched, 0, timeout=0.5)  # not woken by another's commit
        store_a.append_batch(watched, [ev.MessageStart(seq=1, message_id=mid, conversation_id=watched)])
        assert await asyncio.wait_for(listener.wait(watched, 0, timeout=HANG_GUARD), HANG_GUARD)
        assert listener.latest[watched] == 1
        assert other not in listener.latest
    finally:
        await listener.close()


async def test_falls_back_to_polling_when_listen_cannot_connect(two_replicas):
    store_a, store_b = two_replicas
    provider = ScriptedProvider([[*text_parts("a short "), Pause(0.5), *text_step("answer.")]])
    writer = RunManager(AsyncStore(store_a), lambda: provider, TOOLBOX, settings(), listen=False)
    follower = RunManager(AsyncStore(store_b), lambda: None, TOOLBOX, settings(), poll_interval=0.05)
    # A listener pointed at a port where nothing listens: never healthy, so the follower polls.
    follower.tailer.listener = LogListener("postgresql://postgres@127.0.0.1:1/test", "x", reconnect_delay=5)
    cid = store_a.create_conversation().id
    try:
        mid = await writer.start(cid, "q")
        await asyncio.sleep(0.1)
        got = [e async for e in follower.tail(cid, message_id=mid)]
        assert got[0].seq == 1 and [e.seq for e in got] == list(range(1, len(got) + 1))
        assert got[-1].type == "message_complete" and got[-1].success
        assert not follower.tailer.listener.healthy
    finally:
        await writer.shutdown()
        await follower.shutdown()
