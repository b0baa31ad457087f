"""Group commit for the event log: the batches that runs hand over while a write is in flight
(or within ``min_gap`` of the last one) are committed together, in one transaction.

Each run's EventLogWriter batches its own events; with many runs streaming at a model's pace
(tens of events per second each) that is still one transaction per run every few milliseconds,
and on SQLite every one of them takes the single write lock. ``GroupCommitter`` sits between the
writers and the store with the same ``append_batch`` they call: an idle committer writes a batch
at once (or, right after a write, once ``min_gap`` has passed); a busy one queues it, and when the
current write ends, writes everything queued in one transaction (``Store.append_batches``). If that transaction fails, each
batch is retried alone, so one run's failure (a deleted conversation) is that run's alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from finstream import events as ev
from finstream.store.records import MessagePatch

_Item = tuple[str, list[ev.Event], "str | None", "MessagePatch | None", asyncio.Future]


class GroupCommitter:
    """``await committer.append_batch(...)`` as on AsyncStore (a BatchSink)."""

    def __init__(self, astore: Any, *, min_gap: float = 0.005) -> None:
        self.astore = astore
        # At most one transaction per min_gap seconds: with many streams the commit rate stays
        # bounded (batches queue and go together); a lone stream waits at most this long.
        self.min_gap = min_gap
        self._last_end = 0.0
        self._queue: list[_Item] = []
        self._task: asyncio.Task | None = None
        self.groups = 0  # transactions written (for tests and benchmarks)
        self.batches = 0

    async def append_batch(self, conversation_id: str, events: Sequence[ev.Event], *,
                           message_id: str | None = None, patch: MessagePatch | None = None) -> None:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        batch = events if type(events) is list else list(events)  # the writer's batch is its own list
        self._queue.append((conversation_id, batch, message_id, patch, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queue:
            wait = self._last_end + self.min_gap - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            group, self._queue = self._queue, []
            try:
                await self.astore.run(self._write, [item[:4] for item in group])
            except Exception as exc:
                if len(group) == 1:
                    _settle(group[0][4], exc)
                    continue
                for item in group:  # alone, so only the batch at fault fails
                    try:
                        await self.astore.run(self._write, [item[:4]])
                    except Exception as one:
                        _settle(item[4], one)
                    else:
                        _settle(item[4], None)
                continue
            self._last_end = loop.time()
            self.groups += 1
            self.batches += len(group)
            for item in group:
                _settle(item[4], None)

    def _write(self, items: list[tuple]) -> None:
        sync = self.astore.sync
        many = getattr(sync, "append_batches", None)
        if many is not None:
            many(items)
            return
        for conversation_id, events, message_id, patch in items:
            sync.append_batch(conversation_id, events, message_id=message_id, patch=patch)


def _settle(future: asyncio.Future, exc: BaseException | None) -> None:
    if future.done():
        return  # the writer was cancelled meanwhile; the write itself went ahead
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
