"""The remote poller: how a Tailer follows a run another process (or replica) streams into the
log. The tailer hides a broken poller by reading the log itself, so these tests watch the
contract, not only the final events: one poller per conversation serves every local viewer (the
viewers do not read the log while it runs), it reads again at once while pages are full, it
stops when the run ends or the last viewer leaves, it hands over to a local run, a failed poll is
logged and the viewers go on, and NOTIFY or the fallback poll wakes it.

The other process is played by hand on the same real database: its claim (begin_turn with
another owner), its batches (append_batch) and its release. ``Spy`` wraps the real AsyncStore to
record which task read the log and to act at a precise moment (a commit landing between two
reads); every read still goes to the database. No test asserts a duration: each waits on a
condition, bounded, and a long poll interval turns "the poller waited" into "never delivered".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from finstream import events as ev
from finstream.providers.scripted import Gate, text_parts, text_step
from finstream.runs.state import LiveRuns, _Run
from finstream.runs.tail import Tailer, log_listener
from finstream.store import AsyncStore, MessagePatch, Store
from finstream.store.notify import LogListener, libpq_url
from tests.runs.conftest import Env
from tests.runs.test_runs_tailing import collect, dumps, until_seq, with_accumulated

LONG = 3600.0  # a poll interval no test may ever wait for


class Spy:
    """The real AsyncStore, recording each ``read_events`` call (the task that made it and how
    many events it got) and running ``after`` hooks on a call's result before handing it back."""

    def __init__(self, inner: AsyncStore) -> None:
        self.inner = inner
        self.reads: list[tuple[asyncio.Task | None, int]] = []
        # (method name, result) -> True when the hook is done (it is then removed)
        self.after: list[Callable[[str, Any], bool]] = []
        self.fail: Callable[[], bool] | None = None  # read_events raises while this says so

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _hooks(self, name: str, result: Any) -> None:
        self.after = [hook for hook in self.after if not hook(name, result)]

    async def read_events(self, conversation_id: str, after_seq: int = 0, limit: int = 1000, *,
                          before_seq: int | None = None) -> list[ev.Event]:
        if self.fail is not None and self.fail():
            self.fail = None
            raise ConnectionError("the database went away for one read")
        page = await self.inner.read_events(conversation_id, after_seq, limit, before_seq=before_seq)
        self.reads.append((asyncio.current_task(), len(page)))
        self._hooks("read_events", page)
        return page

    async def get_conversation(self, conversation_id: str) -> Any:
        conv = await self.inner.get_conversation(conversation_id)
        self._hooks("get_conversation", conv)
        return conv

    def reads_by(self, task: asyncio.Task | None) -> int:
        return sum(1 for t, _ in self.reads if t is task)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition()`` holds (bounded: a poller that never gets there fails the test)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


class Remote:
    """A run that another process streams into ``store``: its claim, batches and release."""

    def __init__(self, store: Store, cid: str | None = None) -> None:
        self.store = store
        self.cid = cid or store.create_conversation().id
        turn = store.begin_turn(self.cid, "Revenue?", owner="another-process")
        self.mid = turn.assistant.id
        self.seq = turn.seq_start - 1

    def words(self, *words: str) -> list[ev.Event]:
        out: list[ev.Event] = []
        if self.seq == 0:
            self.seq = 1
            out.append(ev.MessageStart(seq=1, message_id=self.mid, conversation_id=self.cid))
        for w in words:
            self.seq += 1
            out.append(ev.TextDelta(seq=self.seq, message_id=self.mid, text=w))
        return out

    def commit(self, *words: str) -> int:
        """Commit a batch of one text delta per word; the log's last seq."""
        self.store.append_batch(self.cid, self.words(*words), message_id=self.mid,
                                patch=MessagePatch(append_text="".join(words)))
        return self.seq

    def finish(self, *words: str, status: str = "complete") -> int:
        """The last batch, the message_complete and the release, in one transaction."""
        batch = self.words(*words)
        self.seq += 1
        batch.append(ev.MessageComplete(seq=self.seq, message_id=self.mid, success=status == "complete",
                                        stop_reason="end_turn" if status == "complete" else "stopped"))
        self.store.append_batch(self.cid, batch, message_id=self.mid,
                                patch=MessagePatch(append_text="".join(words), status=status, release=True))
        return self.seq


def follow(tailer: Tailer, cid: str, into: list[ev.Event], **kw: Any) -> asyncio.Task:
    async def run() -> None:
        async for e in tailer.tail(cid, **kw):
            into.append(e)

    return asyncio.create_task(run())


async def viewing(tailer: Tailer, cid: str, **kw: Any) -> tuple[list[ev.Event], asyncio.Task, Any]:
    """A viewer following ``cid`` once it has the first batch and the tailer a feed for it:
    (what it got, its task, the feed)."""
    got: list[ev.Event] = []
    viewer = follow(tailer, cid, got, **kw)
    await received(got, 2, "the viewer")
    await until(lambda: cid in tailer.feeds, "a feed")
    return got, viewer, tailer.feeds[cid]


async def received(events: list[ev.Event], seq: int, what: str) -> None:
    await until(lambda: bool(events) and events[-1].seq >= seq, f"{what} got seq {seq} (got {len(events)})")


async def stop(tailer: Tailer, astore: AsyncStore, *tasks: asyncio.Task) -> None:
    """Cancel what is left (viewers, then pollers) and close."""
    for task in [*tasks, *(f.task for f in list(tailer.feeds.values()) if f.task is not None)]:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    await tailer.close()
    astore._pool.shutdown(wait=True)


async def test_one_poller_serves_every_viewer_and_the_viewers_do_not_read_the_log(db, caplog):
    """Three viewers of another process's run, from three cursors: while they follow, every log
    read is the one poller's, each batch reaches each viewer once, and the final batch (committed
    between two of the poller's reads, with the release) comes through the poller too."""
    astore = AsyncStore(db)
    spy = Spy(astore)
    listener = log_listener(db)
    tailer = Tailer(spy, LiveRuns(), listener, poll_interval=0.01, notify_fallback=0.05)
    remote = Remote(db)
    remote.commit("Revenue ", "rose ")  # seqs 1-3
    cursors = [0, 2, 3]
    got: list[list[ev.Event]] = [[] for _ in cursors]
    viewers = [follow(tailer, remote.cid, into, after_seq=c, message_id=remote.mid)
               for c, into in zip(cursors, got, strict=True)]
    for into, c in zip(got, cursors, strict=True):
        if c < 3:
            await received(into, 3, f"the viewer from {c}")
    await until(lambda: remote.cid in tailer.feeds and len(tailer.feeds[remote.cid].subscribers) == 3,
                "all three viewers on one feed")
    feed = tailer.feeds[remote.cid]
    poller = feed.task
    assert list(tailer.feeds) == [remote.cid]
    spy.reads.clear()  # from here on, only the poller may read the log
    for words in (["from ", "383 "], ["to ", "391 "]):
        idle = spy.reads_by(poller)
        await until(lambda idle=idle: spy.reads_by(poller) > idle, "the poller read again")
        last = remote.commit(*words)
        for into in got:
            await received(into, last, "a viewer")
        assert tailer.feeds.get(remote.cid) is feed

    def final_between_reads(name: str, result: Any) -> bool:
        if name == "read_events" and asyncio.current_task() is poller and result == []:
            remote.finish("billion.")
            return True
        return False

    spy.after.append(final_between_reads)
    await asyncio.wait_for(asyncio.gather(*viewers), 60)
    log = db.read_events(remote.cid, 0, 100_000)
    assert log[-1].type == "message_complete"
    expected = with_accumulated(log)
    for c, into in zip(cursors, got, strict=True):
        assert dumps(into) == expected[c:], f"the viewer from {c}"
    readers = {task for task, _ in spy.reads}
    assert readers == {poller}, "a viewer read the log itself: the poller did not deliver"
    await until(lambda: not tailer.feeds and poller is not None and poller.done(),
                "the poller ended with the run")
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    await stop(tailer, astore)


async def test_a_full_page_is_followed_by_the_next_read_at_once(sqlite_db):
    """1,200 events committed in one go: the poller reads 1,000, then the rest without waiting
    (its poll interval here is an hour)."""
    astore = AsyncStore(sqlite_db)
    spy = Spy(astore)
    tailer = Tailer(spy, LiveRuns(), None, poll_interval=LONG)
    remote = Remote(sqlite_db)
    remote.commit("Revenue ", "rose ")
    words = [f"w{i} " for i in range(1200)]

    def big_batch_after_the_viewer_caught_up(name: str, result: Any) -> bool:
        if name == "get_conversation":  # the viewer asks whether a run streams elsewhere
            remote.commit(*words)
            return True
        return False

    spy.after.append(big_batch_after_the_viewer_caught_up)
    got: list[ev.Event] = []
    viewer = follow(tailer, remote.cid, got)
    await received(got, 3 + 1200, "the viewer")
    assert dumps(got) == with_accumulated(sqlite_db.read_events(remote.cid, 0, 100_000))
    assert len(tailer.feeds) == 1
    await stop(tailer, astore, viewer)


async def test_the_poller_stops_when_the_last_viewer_leaves(sqlite_db):
    astore = AsyncStore(sqlite_db)
    tailer = Tailer(astore, LiveRuns(), None, poll_interval=0.01)
    remote = Remote(sqlite_db)
    remote.commit("Revenue ")
    first: list[ev.Event] = []
    second: list[ev.Event] = []
    viewers = [follow(tailer, remote.cid, first), follow(tailer, remote.cid, second)]
    await received(first, 2, "the first viewer")
    await received(second, 2, "the second viewer")
    await until(lambda: remote.cid in tailer.feeds, "a feed")
    feed = tailer.feeds[remote.cid]
    viewers[0].cancel()
    await until(lambda: len(feed.subscribers) == 1, "one viewer left")
    last = remote.commit("rose ")
    await received(second, last, "the viewer that stayed")
    assert feed.task is not None and not feed.task.done()
    viewers[1].cancel()
    await until(lambda: feed.task is not None and feed.task.done(), "the poller ended")
    assert tailer.feeds == {}
    assert [e.seq for e in first] == [1, 2] and [e.seq for e in second] == [1, 2, 3]
    await stop(tailer, astore, *viewers)


async def test_a_failed_poll_is_logged_and_the_viewers_miss_nothing(sqlite_db, caplog):
    astore = AsyncStore(sqlite_db)
    spy = Spy(astore)
    tailer = Tailer(spy, LiveRuns(), None, poll_interval=0.01)
    remote = Remote(sqlite_db)
    remote.commit("Revenue ")
    got, viewer, broken = await viewing(tailer, remote.cid)
    spy.fail = lambda: asyncio.current_task() is broken.task
    await until(lambda: broken.task is not None and broken.task.done(), "the failing poller ended")
    remote.commit("rose ", "from ")
    remote.finish("383.")
    await asyncio.wait_for(viewer, 60)
    assert dumps(got) == with_accumulated(sqlite_db.read_events(remote.cid, 0, 100_000))
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].name == "finstream.runs"
    assert errors[0].getMessage() == f"following conversation {remote.cid} failed"
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is ConnectionError
    await until(lambda: not tailer.feeds, "the second poller ended")
    await stop(tailer, astore)


async def test_a_continuation_started_elsewhere_is_followed_past_the_earlier_complete(sqlite_db):
    """The message's first part ended (message_complete, stopped); another process continues it
    but has logged nothing yet: a tail of the message must not end at the old complete."""
    astore = AsyncStore(sqlite_db)
    tailer = Tailer(astore, LiveRuns(), None, poll_interval=0.01)
    remote = Remote(sqlite_db)
    remote.commit("Half ")
    first_end = remote.finish("of ", status="stopped")
    sqlite_db.begin_turn(remote.cid, None, continue_message_id=remote.mid, owner="another-process")
    got: list[ev.Event] = []
    viewer = follow(tailer, remote.cid, got, message_id=remote.mid)
    await received(got, first_end, "the viewer")
    await until(lambda: remote.cid in tailer.feeds, "the viewer follows the continuation")
    assert not viewer.done()
    remote.commit("the ")
    end = remote.finish("answer.")
    await asyncio.wait_for(viewer, 60)
    assert [e.seq for e in got] == list(range(1, end + 1))
    assert dumps(got) == with_accumulated(sqlite_db.read_events(remote.cid, 0, 100_000))
    assert got[-1].type == "message_complete" and got[-1].success
    await until(lambda: not tailer.feeds, "the poller ended")
    await stop(tailer, astore)


async def answered(env: Env, text: str) -> tuple[str, str, int]:
    """A new conversation with one finished answer: (conversation id, its message id, last seq)."""
    env.provider.add(text_step(text))
    cid = env.store.create_conversation().id
    mid = await env.manager.start(cid, "q?")
    await env.manager.wait(mid)
    return cid, mid, env.store.last_seq(cid)


async def test_a_finished_message_followed_from_its_end_returns_at_once(lite):
    cid, mid, end = await answered(lite, "One answer.")
    task = asyncio.create_task(collect(lite.manager.tail(cid, message_id=mid, after_seq=end)))
    await until(task.done, "the tail of a finished message ended")
    assert task.result() == []
    assert lite.manager.tailer.feeds == {}


async def test_while_the_listen_connection_is_down_the_poller_polls(sqlite_db):
    """A LISTEN connection that cannot connect (nothing listens on the port): the poller waits
    only the poll interval for it, then polls."""
    astore = AsyncStore(sqlite_db)
    listener = LogListener("postgresql://postgres@127.0.0.1:1/none", "finstream_log_nowhere",
                           reconnect_delay=0.05)
    tailer = Tailer(astore, LiveRuns(), listener, poll_interval=0.01, notify_fallback=LONG)
    remote = Remote(sqlite_db)
    remote.commit("Revenue ")
    got, viewer, _ = await viewing(tailer, remote.cid)
    last = remote.commit("rose ")
    await received(got, last, "the viewer, by polling")
    remote.finish("two percent.")
    await asyncio.wait_for(viewer, 60)
    assert dumps(got) == with_accumulated(sqlite_db.read_events(remote.cid, 0, 100_000))
    assert not tailer.listening
    await stop(tailer, astore)


async def test_a_notification_that_never_comes_costs_only_the_fallback_poll(pg_db):
    """LISTEN is up but on a channel nobody notifies: the fallback interval still wakes the
    poller (the poll interval here is an hour)."""
    db, schema = pg_db
    astore = AsyncStore(db)
    listener = LogListener(libpq_url(db.engine), "finstream_log_deaf", options=f"-csearch_path={schema}")
    tailer = Tailer(astore, LiveRuns(), listener, poll_interval=LONG, notify_fallback=0.02)
    remote = Remote(db)
    remote.commit("Revenue ")
    got: list[ev.Event] = []
    viewer = follow(tailer, remote.cid, got)
    await received(got, 2, "the viewer")
    await until(lambda: tailer.listening and remote.cid in tailer.feeds, "a feed, listening")
    last = remote.commit("rose ")
    await received(got, last, "the viewer, by the fallback poll")
    remote.finish("two percent.")
    await asyncio.wait_for(viewer, 60)
    assert dumps(got) == with_accumulated(db.read_events(remote.cid, 0, 100_000))
    await stop(tailer, astore)


async def test_notify_wakes_an_idle_poller_and_it_unwatches_when_done(pg_db, caplog):
    """Poll interval and fallback an hour: only NOTIFY can wake the poller, from its idle wait
    (its first read found nothing new). Once the run ended, the conversation is not watched."""
    db, _ = pg_db
    astore = AsyncStore(db)
    spy = Spy(astore)
    listener = log_listener(db)
    assert listener is not None
    tailer = Tailer(spy, LiveRuns(), listener, poll_interval=LONG, notify_fallback=LONG)
    remote = Remote(db)
    remote.commit("Revenue ")
    got, viewer, feed = await viewing(tailer, remote.cid)
    poller = feed.task
    await until(lambda: spy.reads_by(poller) >= 1 and tailer.listening, "the poller's first read")
    assert [n for t, n in spy.reads if t is poller] == [0]  # so it waits idle
    last = remote.commit("rose ")
    await received(got, last, "the viewer, woken by NOTIFY")
    remote.finish("two percent.")
    await asyncio.wait_for(viewer, 60)
    assert dumps(got) == with_accumulated(db.read_events(remote.cid, 0, 100_000))
    await until(lambda: not tailer.feeds, "the poller ended")
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    # Not watched any more: a later notification for the conversation is not remembered.
    seen = listener.received
    db.append_batch(remote.cid, [ev.MessageStart(seq=remote.seq + 1, message_id=remote.mid,
                                                 conversation_id=remote.cid)], message_id=remote.mid)
    await until(lambda: listener.received > seen, "the next notification")
    assert remote.cid not in listener.latest
    await stop(tailer, astore)


async def test_a_local_run_that_takes_over_from_a_remote_one_is_followed_live(sqlite_db):
    """The remote run ends and a run of this process claims the conversation before the poller
    looks again: the viewer moves to the local run and gets its events before they commit."""
    astore = AsyncStore(sqlite_db)
    spy = Spy(astore)
    live = LiveRuns()
    tailer = Tailer(spy, live, None, poll_interval=0.01)
    remote = Remote(sqlite_db)
    remote.commit("Revenue ")
    got, viewer, feed = await viewing(tailer, remote.cid)
    poller = feed.task
    local: list[_Run] = []

    def local_run_claims_after_the_remote_end(name: str, result: Any) -> bool:
        if (name == "read_events" and asyncio.current_task() is poller and result
                and result[-1].type == "message_complete"):
            turn = sqlite_db.begin_turn(remote.cid, "And margins?", owner="this-process")
            run = _Run(remote.cid, turn.assistant.id, turn.seq_start, "")
            run.publish(ev.MessageStart(seq=turn.seq_start, message_id=run.message_id,
                                        conversation_id=remote.cid))
            live.add(run)
            local.append(run)
            return True
        return False

    spy.after.append(local_run_claims_after_the_remote_end)
    end = remote.finish("rose.")
    await until(lambda: bool(local), "the local run started")
    run = local[0]
    await received(got, run.seq_start, "the viewer, from the local run's memory")
    assert sqlite_db.last_seq(remote.cid) == end  # not committed: it came live
    done = ev.MessageComplete(seq=run.seq_start + 1, message_id=run.message_id, success=True,
                              stop_reason="end_turn")
    sqlite_db.append_batch(remote.cid, [*run.events, done], message_id=run.message_id,
                           patch=MessagePatch(status="complete", release=True))
    live.forget(run)
    run.publish(done, durable=True)
    run.finish()
    await asyncio.wait_for(viewer, 60)
    assert [e.seq for e in got] == list(range(1, run.seq_start + 2))
    assert run.tailers == set()
    await stop(tailer, astore)


async def test_a_run_that_starts_during_the_log_read_is_part_of_what_exists_now(sqlite_db):
    """follow=False: a local run registered while the tailer read the (empty) log is attached
    to, and its in-memory events are returned; the tailer's queue is then released."""
    astore = AsyncStore(sqlite_db)
    spy = Spy(astore)
    live = LiveRuns()
    tailer = Tailer(spy, live, None, poll_interval=0.01)
    cid = sqlite_db.create_conversation().id
    turn = sqlite_db.begin_turn(cid, "q", owner="this-process")
    run = _Run(cid, turn.assistant.id, turn.seq_start, "")
    run.publish(ev.MessageStart(seq=1, message_id=run.message_id, conversation_id=cid))
    run.publish(ev.TextDelta(seq=2, message_id=run.message_id, text="Revenue "))

    def starts_meanwhile(name: str, result: Any) -> bool:
        if name == "read_events":
            live.add(run)
            return True
        return False

    spy.after.append(starts_meanwhile)
    got = await collect(tailer.tail(cid, follow=False))
    assert dumps(got) == with_accumulated(run.events)
    assert run.tailers == set()
    await stop(tailer, astore)


async def test_a_tail_of_one_message_waits_for_its_local_run_not_the_log(sqlite_db):
    """Tailing a message that a run of this process streams: its events come live, before the
    writer commits any of them."""
    env = Env(sqlite_db, batch_size=10_000, flush_interval=60.0)  # nothing commits until the end
    gate = asyncio.Event()
    env.provider.add([*text_parts("Revenue rose "), Gate(gate), *text_step("two percent.")])
    cid = sqlite_db.create_conversation().id
    mid = await env.manager.start(cid, "q?")
    await until_seq(env, cid, 3)
    got: list[ev.Event] = []
    viewer = follow(env.manager.tailer, cid, got, message_id=mid)
    await received(got, 3, "the viewer of the message")
    assert sqlite_db.last_seq(cid) == 0
    gate.set()
    await asyncio.wait_for(viewer, 60)
    assert dumps(got) == with_accumulated(sqlite_db.read_events(cid, 0, 100_000))
    await env.close()


async def test_a_tail_of_an_older_message_does_not_wait_for_the_live_one(lite):
    cid, first, end = await answered(lite, "First answer.")
    gate = asyncio.Event()
    lite.provider.add([*text_parts("Second "), Gate(gate), *text_step("answer.")])
    second = await lite.manager.start(cid, "q2?")
    await until_seq(lite, cid, end + 2)
    for follow_ in (False, True):
        task = asyncio.create_task(collect(lite.manager.tail(cid, message_id=first, after_seq=end,
                                                             follow=follow_)))
        await until(task.done, f"the tail of the older message ended (follow={follow_})")
        got = task.result()
        assert [e.seq for e in got] == list(range(end + 1, end + 1 + len(got)))
        assert {e.message_id for e in got} <= {second}
    assert lite.manager.active_message(cid) == second  # still held at the gate
    gate.set()
    await lite.manager.wait(second)



async def test_a_run_that_ends_between_the_log_read_and_the_streaming_check_is_read_once_more(sqlite_db):
    """The final batch and the release commit after the tailer's last (empty) log read and
    before it asks whether the run still streams: it reads once more and gets them."""
    astore = AsyncStore(sqlite_db)
    spy = Spy(astore)
    tailer = Tailer(spy, LiveRuns(), None, poll_interval=0.01)
    remote = Remote(sqlite_db)
    remote.commit("Revenue ")
    viewer_task: list[asyncio.Task | None] = []

    def finishes_after_the_empty_read(name: str, result: Any) -> bool:
        if name == "read_events" and result == [] and asyncio.current_task() in viewer_task:
            remote.finish("rose.")
            return True
        return False

    spy.after.append(finishes_after_the_empty_read)

    async def tail() -> list[ev.Event]:
        viewer_task.append(asyncio.current_task())
        return await collect(tailer.tail(remote.cid))

    got = await asyncio.wait_for(tail(), 60)
    assert dumps(got) == with_accumulated(sqlite_db.read_events(remote.cid, 0, 100_000))
    assert got[-1].type == "message_complete"
    await stop(tailer, astore)


async def test_a_stop_and_its_continuation_in_one_poll_end_the_tail_at_the_last_complete(sqlite_db):
    """Between two of the poller's reads the other process stops the message and continues it
    to the end: the viewer of the message gets both parts, not only the first."""
    astore = AsyncStore(sqlite_db)
    spy = Spy(astore)
    tailer = Tailer(spy, LiveRuns(), None, poll_interval=0.01)
    remote = Remote(sqlite_db)
    remote.commit("Half ")
    got, viewer, feed = await viewing(tailer, remote.cid, message_id=remote.mid)
    poller = feed.task
    ends: list[int] = []

    def stop_and_continue(name: str, result: Any) -> bool:
        if name == "read_events" and asyncio.current_task() is poller and result == []:
            ends.append(remote.finish("of ", status="stopped"))
            sqlite_db.begin_turn(remote.cid, None, continue_message_id=remote.mid, owner="another-process")
            ends.append(remote.finish("the answer."))
            return True
        return False

    spy.after.append(stop_and_continue)
    await asyncio.wait_for(viewer, 60)
    assert [e.seq for e in got] == list(range(1, ends[-1] + 1))
    assert [e.seq for e in got if e.type == "message_complete"] == ends
    await until(lambda: not tailer.feeds, "the poller ended")
    await stop(tailer, astore)
