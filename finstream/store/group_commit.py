"""Group commit for the event log: what the runs have ready while a write is in flight (or within
``min_gap`` of the last one) is committed together, in one transaction.

Each run's EventLogWriter batches its own events; with many runs streaming at a model's pace
(tens of events per second each) that would still be one transaction per run every few
milliseconds, and on SQLite every one of them takes the single write lock. ``GroupCommitter`` sits
between the writers and the store. A writer with events ready *enlists* (a sync call: no task, no
future per batch); when the committer writes next, it takes each enlisted writer's whole batch at
that moment, so whatever a run published meanwhile goes too, and tells the writer how its batch
fared. An idle committer writes at once (or, right after a write, once ``min_gap`` has passed).
One-off writes (a release, a repair) go through ``append_batch``, as on AsyncStore. If a group's
transaction fails, each batch is retried alone, so one run's failure (a deleted conversation) is
that run's alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from finstream import events as ev
from finstream.store.records import MessagePatch

Item = tuple[str, Sequence[ev.Event], "str | None", "MessagePatch | None"]


class Enlisted(Protocol):
    """A writer as the committer sees it (runs/writer.py)."""

    def take(self) -> Item | None:
        """Its batch, now: the committer writes it next (None: nothing left to write)."""

    def written(self, failure: BaseException | None) -> None:
        """How the batch it gave last fared."""


class GroupCommitter:
    """``enlist(writer)`` for runs' writers; ``await committer.append_batch(...)`` (a BatchSink)
    for one-off writes. ``sink`` is an AsyncStore (a group is one transaction on its thread pool)
    or any BatchSink (its batches are written one by one)."""

    def __init__(self, sink: Any, *, min_gap: float = 0.005) -> None:
        self.sink = sink
        # At most one transaction per min_gap seconds: with many streams the commit rate stays
        # bounded (batches queue and go together); a lone stream waits at most this long.
        self.min_gap = min_gap
        self._grouped = hasattr(sink, "submit") and hasattr(sink, "sync")
        self._last_end = 0.0
        self._writers: list[Enlisted] = []
        self._queue: list[tuple[Item, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self.groups = 0  # transactions written (for tests and benchmarks)
        self.batches = 0

    def enlist(self, writer: Enlisted) -> None:
        """``writer`` has a batch ready; it is taken at the next write (call once per batch)."""
        self._writers.append(writer)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def append_batch(self, conversation_id: str, events: Sequence[ev.Event], *,
                           message_id: str | None = None, patch: MessagePatch | None = None) -> None:
        future = asyncio.get_running_loop().create_future()
        self._queue.append(((conversation_id, list(events), message_id, patch), future))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
        await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue or self._writers:
                wait = self._last_end + self.min_gap - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                queued, self._queue = self._queue, []
                writers, self._writers = self._writers, []
                items: list[Item] = [item for item, _ in queued]
                givers: list[Enlisted] = []
                for writer in writers:
                    item = writer.take()
                    if item is not None:
                        items.append(item)
                        givers.append(writer)
                if not items:
                    continue
                outcomes = await self._write(items)
                self._last_end = loop.time()
                self._settle_all(queued, givers, outcomes)
                if _cancelling():  # (see _in_thread) everyone is told: now stop
                    raise asyncio.CancelledError
        finally:
            self._task = None
            # Cancelled with work left: one-off writes are cancelled; enlisted writers stay
            # enlisted, and the next call starts a new drain that takes them.
            for _, future in self._queue:
                future.cancel()
            self._queue = []

    async def _in_thread(self, fn: Any, *args: Any) -> None:
        """``fn(*args)`` on the store's threads. Cancelled meanwhile (a loop shutting down), a
        call that has started goes on in its thread regardless: it is waited for, so the writers
        in it are told how it ended (told nothing, a writer's drain() would wait for ever), and
        ``_drain`` stops once they are. No task or shield: the common path costs no loop turn."""
        job = self.sink.submit(fn, *args)
        try:
            await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            if job.cancelled():  # it had not started: nothing was written
                raise
            await asyncio.wrap_future(job)  # the task stays cancelling: _drain stops after this

    @staticmethod
    def _settle_all(queued: list[tuple[Item, asyncio.Future[None]]], givers: list[Enlisted],
                    outcomes: list[BaseException | None]) -> None:
        """Tell the one-off writes (first in ``outcomes``) and the writers how their batches fared."""
        for (_, future), outcome in zip(queued, outcomes[:len(queued)], strict=True):
            _settle(future, outcome)
        for writer, outcome in zip(givers, outcomes[len(queued):], strict=True):
            writer.written(outcome)

    async def _write(self, items: list[Item]) -> list[BaseException | None]:
        """Each item's outcome: one transaction for them all; alone, each, if that fails."""
        if self._grouped:
            try:
                await self._in_thread(self.sink.sync.append_batches, items)
            except Exception as exc:
                if len(items) == 1 or _cancelling():  # (cancelled: no retries one by one)
                    return [exc] * len(items)
            else:
                self.groups += 1
                self.batches += len(items)
                return [None] * len(items)
        outcomes: list[BaseException | None] = []
        for conversation_id, events, message_id, patch in items:  # alone, so only the one at fault fails
            try:
                await self.sink.append_batch(conversation_id, events, message_id=message_id, patch=patch)
            except Exception as one:
                outcomes.append(one)
            else:
                outcomes.append(None)
                self.groups += 1
                self.batches += 1
        return outcomes


def _cancelling() -> bool:
    """Whether the running task has been asked to stop (a cancellation caught, not yet honoured)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return  # the caller was cancelled meanwhile; the write itself went ahead
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
