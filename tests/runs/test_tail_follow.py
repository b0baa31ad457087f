"""RunManager.tail beyond the local run: following a run another manager streams into the same
database (as another process would), tails that end by themselves, committed-only tailing, and
continuations that add a second message_complete to a message. Real SQLite, the scripted model."""

from __future__ import annotations

import asyncio

from finstream.providers.scripted import Gate, text_parts, text_step
from tests.runs.conftest import Env
from tests.runs.test_runs_lifecycle import blocked
from tests.runs.test_runs_tailing import (
    HELD_AT,
    collect,
    dumps,
    gated_run,
    until_seq,
    with_accumulated,
)


async def log_reaches(env: Env, cid: str, seq: int) -> None:
    """Wait until ``seq`` is committed (bounded; the writer here flushes each event at once)."""
    for _ in range(1000):
        if env.store.last_seq(cid) >= seq:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"seq {seq} never reached the log")


async def started(env: Env, n: int = 20) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_run_in_another_manager_is_followed_through_the_log_from_any_cursor(sqlite_db):
    owner = Env(sqlite_db, batch_size=1, flush_interval=0.0)
    viewer = Env(sqlite_db, poll_interval=0.01)
    cid, gate = await gated_run(owner, 4)
    await log_reaches(owner, cid, 4)
    cursors = [0, 2, 4]
    tasks = [asyncio.create_task(collect(viewer.manager.tail(cid, after_seq=c))) for c in cursors]
    await started(viewer)
    gate.set()
    results = await asyncio.gather(*tasks)
    expected = with_accumulated(sqlite_db.read_events(cid, 0, 100_000))
    assert expected[-1]["type"] == "message_complete"
    for cursor, got in zip(cursors, results, strict=True):
        assert dumps(got) == expected[cursor:], f"viewer from {cursor}"
    # The viewer never ran the answer itself, and each of its tails ended by itself.
    assert viewer.manager.active_message(cid) is None
    assert len(viewer.provider.requests) == 0
    await viewer.close()
    await owner.close()


async def test_following_another_managers_run_of_one_message_ends_at_its_complete(sqlite_db):
    owner = Env(sqlite_db, batch_size=1, flush_interval=0.0)
    viewer = Env(sqlite_db, poll_interval=0.01)
    cid, gate = await gated_run(owner, 3)
    mid = owner.manager.active_message(cid)
    assert mid is not None
    task = asyncio.create_task(collect(viewer.manager.tail(cid, message_id=mid, accumulated=False)))
    await started(viewer)
    gate.set()
    got = await task
    log = sqlite_db.read_events(cid, 0, 100_000)
    assert [e.seq for e in got] == [e.seq for e in log]
    assert got[-1].type == "message_complete" and {e.message_id for e in got} == {mid}
    assert all(e.accumulated_text is None for e in got if e.type == "text_delta")
    await viewer.close()
    await owner.close()


async def test_a_viewer_that_does_not_follow_gets_the_log_so_far_at_once(sqlite_db):
    owner = Env(sqlite_db, batch_size=1, flush_interval=0.0)
    viewer = Env(sqlite_db, poll_interval=0.01)
    cid, gate = await gated_run(owner, HELD_AT)
    # Wait for everything before the gate: the log must not grow while the viewer reads it.
    await log_reaches(owner, cid, HELD_AT)
    now = await collect(viewer.manager.tail(cid, follow=False))
    assert dumps(now) == with_accumulated(sqlite_db.read_events(cid, 0, 100_000))
    assert now[-1].type != "message_complete"
    gate.set()
    await owner.manager.wait(owner.manager.active_message(cid) or now[0].message_id)
    await viewer.close()
    await owner.close()


async def test_a_conversation_with_nothing_streaming_ends_the_tail_at_the_end_of_its_log(lite):
    cid = lite.store.create_conversation().id
    assert await collect(lite.manager.tail(cid)) == []
    lite.provider.add(text_step("One answer."))
    mid = await lite.manager.start(cid, "q?")
    await lite.manager.wait(mid)
    whole = await collect(lite.manager.tail(cid))
    assert dumps(whole) == with_accumulated(lite.store.read_events(cid, 0, 100_000))
    assert await collect(lite.manager.tail(cid, after_seq=whole[-1].seq)) == []
    assert await collect(lite.manager.tail(cid, after_seq=whole[-1].seq, follow=False)) == []
    # A cursor in the middle gets the rest, with the text accumulated from the message's start.
    rest = await collect(lite.manager.tail(cid, after_seq=2))
    assert dumps(rest) == with_accumulated(lite.store.read_events(cid, 0, 100_000))[2:]


async def test_a_long_log_is_read_a_page_at_a_time_without_loss(lite):
    # More events than one page of the log read, before and after the tailer's cursor.
    words = " ".join(f"w{i}" for i in range(1300)) + "."
    lite.provider.add(text_step(words))
    cid = lite.store.create_conversation().id
    mid = await lite.manager.start(cid, "q?")
    await lite.manager.wait(mid)
    expected = with_accumulated(lite.store.read_events(cid, 0, 100_000))
    assert len(expected) > 1300
    for cursor in (0, 700):
        assert dumps(await collect(lite.manager.tail(cid, after_seq=cursor))) == expected[cursor:]
        assert dumps(await collect(lite.manager.tail(cid, after_seq=cursor, follow=False))) == expected[cursor:]


async def test_a_long_live_run_is_caught_up_from_the_log_then_followed(sqlite_db):
    env = Env(sqlite_db, batch_size=1, flush_interval=0.0)
    gate = asyncio.Event()
    env.provider.add([*text_parts(" ".join(f"w{i}" for i in range(1100)) + " "), Gate(gate),
                      *text_step("end.")])
    cid = sqlite_db.create_conversation().id
    await env.manager.start(cid, "q?")
    await until_seq(env, cid, 1101)
    await log_reaches(env, cid, 1101)
    await asyncio.sleep(0.05)  # let the run drop what is durable from memory
    tasks = [asyncio.create_task(collect(env.manager.tail(cid, after_seq=c))) for c in (0, 600)]
    await started(env)
    gate.set()
    results = await asyncio.gather(*tasks)
    expected = with_accumulated(sqlite_db.read_events(cid, 0, 100_000))
    assert dumps(results[0]) == expected and dumps(results[1]) == expected[600:]
    await env.close()


async def test_a_committed_only_tailer_never_runs_ahead_of_the_log(sqlite_db):
    env = Env(sqlite_db, batch_size=10_000, flush_interval=60.0)  # nothing commits until the end
    gate = asyncio.Event()
    env.provider.add([*text_parts("Revenue rose from 383 to 391 "), Gate(gate), *text_step("billion.")])
    cid = sqlite_db.create_conversation().id
    await env.manager.start(cid, "q?")
    await until_seq(env, cid, 3)

    async def durable_tail() -> list[tuple[int, int]]:
        seen = []
        async for e in env.manager.tail(cid, durable=True):
            seen.append((e.seq, sqlite_db.last_seq(cid)))
        return seen

    live = asyncio.create_task(collect(env.manager.tail(cid)))
    durable = asyncio.create_task(durable_tail())
    await started(env)
    gate.set()
    seen, live_events = await asyncio.gather(durable, live)
    log = sqlite_db.read_events(cid, 0, 100_000)
    assert [s for s, _ in seen] == [e.seq for e in log]
    assert all(seq <= committed for seq, committed in seen)  # each was in the log when yielded
    assert dumps(live_events) == with_accumulated(log)
    await env.close()


async def test_tailing_one_message_follows_its_continuation_to_the_last_complete(lite):
    gate = asyncio.Event()
    lite.provider.add(blocked("Half of ", gate))
    cid = lite.store.create_conversation().id
    mid = await lite.manager.start(cid, "q?")
    await until_seq(lite, cid, 3)
    assert await lite.manager.stop(cid)
    await lite.manager.wait(mid)
    stopped = lite.store.last_seq(cid)
    lite.provider.add(text_step("the answer."))
    await lite.manager.continue_message(cid, mid)
    await lite.manager.wait(mid)
    log = lite.store.read_events(cid, 0, 100_000)
    assert [e.type for e in log].count("message_complete") == 2
    # The first message_complete is not the end: a continuation followed it.
    whole = await collect(lite.manager.tail(cid, message_id=mid))
    assert dumps(whole) == with_accumulated(log)
    # A tailer from inside the continuation gets the text accumulated over both parts.
    rest = await collect(lite.manager.tail(cid, message_id=mid, after_seq=stopped + 1))
    assert dumps(rest) == with_accumulated(log)[stopped + 1:]
    assert rest[-1].type == "message_complete" and "Half of the answer." in [
        e.accumulated_text for e in rest if e.type == "text_delta"]


async def test_a_live_continuation_is_tailed_with_the_text_before_it(sqlite_db):
    env = Env(sqlite_db, batch_size=1, flush_interval=0.0)
    env.provider.add(blocked("Half of "))
    cid = sqlite_db.create_conversation().id
    mid = await env.manager.start(cid, "q?")
    await until_seq(env, cid, 3)
    await env.manager.stop(cid)
    await env.manager.wait(mid)
    cursor = sqlite_db.last_seq(cid)
    gate = asyncio.Event()
    env.provider.add([*text_parts("the "), Gate(gate), *text_step("answer.")])
    await env.manager.continue_message(cid, mid)
    await until_seq(env, cid, cursor + 2)
    tasks = [asyncio.create_task(collect(env.manager.tail(cid, after_seq=c, message_id=mid)))
             for c in (0, 2, cursor, cursor + 1)]
    await started(env)
    gate.set()
    results = await asyncio.gather(*tasks)
    expected = with_accumulated(sqlite_db.read_events(cid, 0, 100_000))
    for c, got in zip((0, 2, cursor, cursor + 1), results, strict=True):
        assert dumps(got) == expected[c:], f"from {c}"
    await env.close()


async def received(events: list, seq: int, what: str) -> None:
    """Wait until a tailer collecting into ``events`` has got ``seq`` (bounded: a follower that
    is not woken never gets there)."""
    for _ in range(1000):
        if events and events[-1].seq >= seq:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what}: seq {seq} was not delivered while the run was live (got {len(events)})")


async def test_another_managers_run_is_delivered_while_it_is_still_streaming(db, caplog):
    """Not only at the end: each event reaches the viewer while the owner is still streaming. On
    PostgreSQL the viewer polls only every 30 s, so it is LISTEN/NOTIFY that wakes it."""
    owner = Env(db, batch_size=1, flush_interval=0.0)
    slow = db.dialect == "postgresql"
    viewer = Env(db, poll_interval=30.0 if slow else 0.01, notify_fallback=30.0)
    first, second = asyncio.Event(), asyncio.Event()
    owner.provider.add([*text_parts("Revenue rose "), Gate(first), *text_parts("from 383 to 391 "), Gate(second),
                        *text_step("billion.")])
    cid = db.create_conversation().id
    await owner.manager.start(cid, "Revenue?")
    await until_seq(owner, cid, 3)
    await log_reaches(owner, cid, 3)
    got: list = []
    late: list = []

    async def follow(into: list, after: int) -> None:
        async for e in viewer.manager.tail(cid, after_seq=after):
            into.append(e)

    tasks = [asyncio.create_task(follow(got, 0))]
    await received(got, 3, "the first viewer")
    first.set()
    await log_reaches(owner, cid, 7)
    await received(got, 7, "the first viewer")
    tasks.append(asyncio.create_task(follow(late, 5)))  # joins the same follower mid-run
    await received(late, 7, "a second viewer")
    assert owner.manager.active_message(cid) is not None  # still streaming: held at the second gate
    second.set()
    await asyncio.gather(*tasks)
    expected = with_accumulated(db.read_events(cid, 0, 100_000))
    assert dumps(got) == expected and dumps(late) == expected[5:]
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    await viewer.close()
    await owner.close()
