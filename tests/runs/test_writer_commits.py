"""The run's log writer and the group committer it enlists with (runs/writer.py,
store/group_commit.py): a writer enlists once per batch and the committer takes, when it writes,
everything the run published until then; the batches of many runs share one transaction; a
failed write is retried after a back-off with nothing lost or doubled, and a constraint
violation gives up at once."""

from __future__ import annotations

import asyncio
import threading

import sqlalchemy as sa

from finstream import events as ev
from finstream.runs.writer import EventLogWriter
from finstream.store import AsyncStore
from finstream.store.group_commit import GroupCommitter
from tests.support.db import open_turns


def delta(seq: int, mid: str = "m1") -> ev.TextDelta:
    return ev.TextDelta(seq=seq, message_id=mid, text=f"t{seq} ")


def done(seq: int, mid: str = "m1") -> ev.MessageComplete:
    return ev.MessageComplete(seq=seq, message_id=mid, success=True, stop_reason="end_turn")


class FlakySink:
    """A BatchSink whose first ``failures`` writes raise ``error``."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.failures = failures
        self.error = error or OSError("disk I/O error")
        self.batches: list[list[int]] = []
        self.patches: list[object] = []
        self.calls = 0

    async def append_batch(self, conversation_id, events, *, message_id=None, patch=None):  # noqa: ANN001
        self.calls += 1
        await asyncio.sleep(0)  # a write takes a turn of the loop: the run goes on meanwhile
        if self.calls <= self.failures:
            raise self.error
        self.batches.append([e.seq for e in events])
        self.patches.append(patch)


async def test_what_a_run_publishes_before_the_write_goes_in_one_batch():
    sink = FlakySink()
    durable: list[int] = []
    writer = EventLogWriter(sink, "c1", "m1", batch_size=1000, interval=0.0, on_durable=durable.append)
    for seq in range(1, 6):  # one turn of the loop: the committer has not written yet
        assert writer.add_text(delta(seq), f"t{seq} ") is False
    await writer.drain()
    assert sink.batches == [[1, 2, 3, 4, 5]] and durable == [5]
    writer.add_text(delta(6), "t6 ")
    assert writer.add_nowait(done(7)) is True
    await writer.close()
    assert sink.batches == [[1, 2, 3, 4, 5], [6, 7]]
    assert writer.final == {"status": "complete", "stop_reason": "end_turn"}
    assert sink.patches[-1].append_text == "".join(f"t{i} " for i in range(1, 7))


async def test_the_batches_of_many_runs_share_one_transaction(db):
    store = db
    astore = AsyncStore(store)
    committer = GroupCommitter(astore)
    runs = open_turns(store, 5)
    try:
        writers = [EventLogWriter(committer, cid, mid, interval=0.0) for cid, mid in runs]
        for seq in range(1, 4):
            for (_, mid), writer in zip(runs, writers, strict=True):
                writer.add_text(delta(seq, mid), f"t{seq} ")
        for (_, mid), writer in zip(runs, writers, strict=True):
            writer.add_nowait(done(4, mid))
        await asyncio.gather(*(w.close() for w in writers))
        assert committer.batches == 5 and committer.groups == 1  # all ready at once: one write
        for (cid, mid), writer in zip(runs, writers, strict=True):
            assert [e.seq for e in store.read_events(cid)] == [1, 2, 3, 4]
            assert store.get_message(mid).text == "t1 t2 t3 " and writer.final["status"] == "complete"
            assert store.get_conversation(cid).active_message_id is None
    finally:
        astore._pool.shutdown(wait=True)


async def test_a_failed_write_is_retried_with_nothing_lost_or_doubled(monkeypatch):
    sink = FlakySink(failures=2)
    writer = EventLogWriter(sink, "c1", "m1", interval=0.0, max_attempts=4)
    loop = asyncio.get_running_loop()
    backoffs: list[float] = []
    real_call_later = loop.call_later

    def call_later(delay, callback, *args):  # noqa: ANN001, ANN202 - the retries' back-off, shortened
        if getattr(callback, "__name__", "") != "_ready":
            return real_call_later(delay, callback, *args)  # (the committer's min_gap)
        backoffs.append(delay)
        return real_call_later(delay / 100, callback, *args)

    monkeypatch.setattr(loop, "call_later", call_later)
    for seq in range(1, 4):
        writer.add_text(delta(seq), f"t{seq} ")
    await asyncio.sleep(0)  # the first write is in flight: the next event waits behind it
    writer.add_text(delta(4), "t4 ")
    writer.add_nowait(done(5))
    await writer.close()
    assert backoffs == [0.1, 0.2]  # one back-off per failed try, growing
    assert [s for b in sink.batches for s in b] == [1, 2, 3, 4, 5] and writer.failure is None
    assert writer.final is not None and not writer.unsaved


async def test_a_writer_that_runs_out_of_tries_keeps_every_event_in_order():
    sink = FlakySink(failures=100)
    writer = EventLogWriter(sink, "c1", "m1", interval=0.0, max_attempts=1)
    writer.add_text(delta(1), "t1 ")
    await writer.drain()
    assert isinstance(writer.failure, OSError) and [e.seq for e in writer.unsaved] == [1]
    writer.add_text(delta(2), "t2 ")  # after giving up: kept, not written
    writer.add_nowait(done(3))
    await writer.close()
    assert [e.seq for e in writer.unsaved] == [1, 2, 3] and writer.chunks == ["t1 ", "t2 "]
    assert sink.batches == [] and writer.final is None


async def test_a_constraint_violation_gives_up_at_once():
    sink = FlakySink(failures=1, error=sa.exc.IntegrityError("INSERT", (), Exception("seq taken")))
    writer = EventLogWriter(sink, "c1", "m1", interval=0.0, max_attempts=4)
    writer.add_text(delta(1), "t1 ")
    await writer.drain()
    assert sink.calls == 1 and isinstance(writer.failure, sa.exc.IntegrityError)


async def test_an_interval_holds_text_until_it_passes_and_an_artifact_goes_at_once():
    sink = FlakySink()
    writer = EventLogWriter(sink, "c1", "m1", batch_size=100, interval=30.0)
    writer.add_text(delta(1), "t1 ")
    for _ in range(5):
        await asyncio.sleep(0)
    assert sink.batches == []  # waiting for the interval
    chart = ev.ChartReady(seq=2, message_id="m1", chart_index=0, chart_data={"figure": {}, "spec": {}})
    writer.add_nowait(chart)
    for _ in range(5):
        await asyncio.sleep(0)
    assert sink.batches == [[1, 2]]
    writer.add_nowait(done(3))
    await writer.close()
    assert sink.batches == [[1, 2], [3]]



async def test_a_drain_cancelled_mid_write_still_tells_the_writer_how_the_write_ended(db):
    """As when the loop shuts down: the committer's task is cancelled while its transaction runs
    on the store's thread. The transaction commits regardless; the writer is told so (its
    drain() returns) and the events are in the log once."""
    store = db
    ((cid, mid),) = open_turns(store, 1)
    entered, gate = threading.Event(), threading.Event()
    real = store.append_batches

    def held(batches):  # noqa: ANN001, ANN202 - the write in flight, held on its thread
        entered.set()
        assert gate.wait(10)
        return real(batches)

    store.append_batches = held  # type: ignore[method-assign]
    astore = AsyncStore(store)
    durable: list[int] = []
    try:
        writer = EventLogWriter(GroupCommitter(astore), cid, mid, interval=0.0, on_durable=durable.append)
        for seq in range(1, 4):
            writer.add_text(delta(seq, mid), f"t{seq} ")
        await asyncio.to_thread(entered.wait, 10)
        task = writer.committer._task
        assert task is not None
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # it waits for the write it started
        gate.set()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled() and durable == [3]
        await asyncio.wait_for(writer.drain(), 5)  # told: nothing in flight, no wait for ever
        assert writer.failure is None
        assert [e.seq for e in store.read_events(cid)] == [1, 2, 3]
    finally:
        gate.set()
        astore._pool.shutdown(wait=True)
