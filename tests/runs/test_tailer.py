"""The Tailer on its own, by composition: a store protocol, a registry of live runs and no
listener, without a RunManager. It is the one place that builds accumulated_text."""

from __future__ import annotations

import asyncio

from finstream import events as ev
from finstream.runs.state import LiveRuns, _Run
from finstream.runs.tail import Tailer, with_accumulated_text
from finstream.store import AsyncStore, MessagePatch
from tests.runs.test_runs_tailing import collect, dumps, with_accumulated


def _deltas(mid: str, start: int, words: list[str]) -> list[ev.Event]:
    return [ev.TextDelta(seq=i, message_id=mid, text=w) for i, w in enumerate(words, start)]


async def test_a_tailer_needs_only_the_store_and_the_live_runs(sqlite_db):
    astore = AsyncStore(sqlite_db)
    live = LiveRuns()
    tailer = Tailer(astore, live, None, poll_interval=0.01)
    try:
        cid = sqlite_db.create_conversation().id
        turn = sqlite_db.begin_turn(cid, "q", owner="t")
        mid = turn.assistant.id
        logged = [ev.MessageStart(seq=1, message_id=mid, conversation_id=cid),
                  *_deltas(mid, 2, ["Revenue ", "rose "])]
        sqlite_db.append_batch(cid, logged, message_id=mid)
        # A run of this process, registered where the tailer looks: what it published first is
        # durable (memory dropped it), the rest will be live only.
        run = _Run(cid, mid, 1, "")
        for event in logged:
            run.publish(event)
        run.durable(3)
        assert run.events == []
        live.add(run)
        from_start = asyncio.create_task(collect(tailer.tail(cid)))
        from_middle = asyncio.create_task(collect(tailer.tail(cid, after_seq=2)))
        for _ in range(20):
            await asyncio.sleep(0)
        rest = [*_deltas(mid, 4, ["two ", "percent."]),
                ev.MessageComplete(seq=6, message_id=mid, success=True, stop_reason="end_turn")]
        for event in rest[:-1]:
            assert event.accumulated_text is None  # nobody upstream builds it
            run.publish(event)
        sqlite_db.append_batch(cid, rest, message_id=mid,
                               patch=MessagePatch(append_text="Revenue rose two percent.",
                                                  status="complete", release=True))
        live.forget(run)
        run.publish(rest[-1], durable=True)
        run.finish()
        expected = with_accumulated(logged + rest)
        assert dumps(await from_start) == expected
        # From the middle of a message: the text before the cursor seeds accumulated_text.
        got = await from_middle
        assert dumps(got) == expected[2:]
        assert got[0].accumulated_text == "Revenue rose "
        assert tailer.feeds == {} and not tailer.listening
    finally:
        await tailer.close()
        astore._pool.shutdown(wait=True)


async def test_the_cli_gets_accumulated_text_from_the_same_builder():
    async def agent():
        yield ev.MessageStart(seq=1, message_id="m", conversation_id="c")
        for e in _deltas("m", 2, ["a ", "b"]):
            yield e

    out = [e async for e in with_accumulated_text(agent())]
    assert [getattr(e, "accumulated_text", None) for e in out] == [None, "a ", "a b"]
