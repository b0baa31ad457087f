"""The seam between the log and the live run, when everything emitted so far is already durable
(nothing left in memory): a tailer from any cursor gets every event exactly once."""

from __future__ import annotations

import asyncio

from finstream.providers.scripted import text_parts
from tests.runs.conftest import Env
from tests.runs.test_runs_tailing import collect, dumps, gated_run, with_accumulated

FIRST_WORDS = "Revenue rose from 383 to 391 billion dollars "  # gated_script's words before its gate


async def settled_log(env: Env, cid: str) -> int:
    """The log's last seq once the gated run has written all it emits before its gate: the
    message_start and one text_delta per word of its first sentence (bounded wait: the writer
    flushes each event at once here)."""
    before_gate = 1 + len(text_parts(FIRST_WORDS))
    for _ in range(500):
        if env.store.last_seq(cid) >= before_gate:
            return env.store.last_seq(cid)
        await asyncio.sleep(0.01)
    raise AssertionError(f"seq {before_gate} never reached the log")


async def test_every_cursor_at_the_seam_when_memory_holds_nothing(sqlite_db):
    env = Env(sqlite_db, batch_size=1, flush_interval=0.0)
    cid, gate = await gated_run(env, 6)
    emitted = await settled_log(env, cid)
    assert emitted == 1 + len(text_parts(FIRST_WORDS))
    await asyncio.sleep(0.05)  # the run drops durable events from memory after the commit
    # Cursors right at the seam: the last logged event alone between cursor and live is the case
    # an off-by-one in the log read skips.
    cursors = list(range(emitted + 1))
    tasks = [asyncio.create_task(collect(env.manager.tail(cid, after_seq=c))) for c in cursors]
    for _ in range(10):
        await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks)
    expected = with_accumulated(env.store.read_events(cid))
    assert expected[-1]["type"] == "message_complete"
    for cursor, got in zip(cursors, results, strict=True):
        assert dumps(got) == expected[cursor:], f"tailer from {cursor}"
    await env.close()
