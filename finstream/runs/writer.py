"""Group commit for one run's events: the producer never waits for the database.

Events queue in memory; one writer task appends them in order, a batch per transaction, together
with the message's text and status. A batch goes out when ``batch_size`` events are waiting, after
``interval`` seconds, or at once for artifacts and the terminal event; whatever arrives while a
write is in flight joins the next batch (so batches grow when the database is slow). The producer
only waits at the terminal event (the answer is durable before the run ends) and when more than
``max_pending`` events are queued (back-pressure).

When the database or the disk fails and a few retries do not help, the writer stops writing and
keeps what it could not save (``unsaved``) and the error (``failure``): the run then ends with a
``storage`` error instead of a success, and repairs the log once the database is back (runs.py).
So at most ``2 * max_pending`` events are ever published without being durable, which bounds the
seqs a crash can leave unlogged (see Store.mark_streaming_interrupted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from finstream import events as ev
from finstream.runs.status import run_status
from finstream.store.group_commit import GroupCommitter, Item
from finstream.store.protocols import BatchSink
from finstream.store.records import MessagePatch

log = logging.getLogger(__name__)

class EventLogWriter:
    def __init__(
        self,
        store: BatchSink | GroupCommitter,
        conversation_id: str,
        message_id: str,
        *,
        batch_size: int = 256,
        interval: float = 0.05,
        max_pending: int = 4096,
        on_durable: Callable[[int], None] | None = None,
        max_attempts: int = 4,
    ) -> None:
        # The batches go through a group committer (the manager's, shared by its runs); given a
        # plain BatchSink, the writer has one of its own.
        self.committer = store if isinstance(store, GroupCommitter) else GroupCommitter(store)
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.batch_size = batch_size
        self.interval = interval
        self.max_pending = max_pending
        self.on_durable = on_durable  # told the last seq of each committed batch
        self.max_attempts = max_attempts  # tries per batch before the writer gives up
        self.pending: list[ev.Event] = []
        # All the run's text. It goes into the message row once, with the terminal event: rewriting
        # a growing text column every batch made the log quadratic (the row is rewritten whole).
        # After a crash, recovery rebuilds the text from the logged deltas.
        self.chunks: list[str] = []
        self.error: dict[str, Any] | None = None
        self.final: dict[str, Any] | None = None  # set once the terminal event is written
        self.failure: BaseException | None = None  # the write error the writer gave up on
        self.unsaved: list[ev.Event] = []  # events not written because of it, in order
        self._urgent = False
        self._enlisted = False  # the committer takes this writer's batch at its next write
        self._in_flight: tuple[list[ev.Event], MessagePatch | None, ev.MessageComplete | None] | None = None
        self._failures = 0  # failed tries of the batch in flight
        self._timer: asyncio.Handle | None = None  # the interval, or a retry's back-off
        self._idle: list[asyncio.Future[None]] = []  # drain()s waiting

    def add_nowait(self, event: ev.Event) -> bool:
        """Queue an event; True when the caller must now ``await drain()`` (the terminal event,
        or back-pressure). Sync, so the per-event cost on the stream stays a few attribute checks."""
        if self.failure is not None:
            self.unsaved.append(event)
            if isinstance(event, ev.TextDelta):
                self.chunks.append(event.text)
            return False
        if type(event) is ev.TextDelta:  # most events
            return self.add_text(event, event.text)
        self.pending.append(event)
        if isinstance(event, ev.Error):
            self.error = {"code": event.code, "message": event.message, "retryable": event.retryable}
        if isinstance(event, ev.MessageComplete):
            return True
        if isinstance(event, (ev.ChartReady, ev.TableReady, ev.MetricReady)):
            self._ready(urgent=True)  # an artifact goes out at once
        else:
            self._later()
        return len(self.pending) >= self.max_pending

    def add_text(self, event: ev.TextDelta, text: str) -> bool:
        """``add_nowait`` for a text delta whose text the caller has read already (the run's hot
        path: the fewest checks)."""
        if self.failure is not None:
            self.unsaved.append(event)
            self.chunks.append(text)
            return False
        pending = self.pending
        pending.append(event)
        self.chunks.append(text)
        if len(pending) >= self.batch_size:
            self._ready()
            return len(pending) >= self.max_pending
        if not self._enlisted and self._timer is None and self._in_flight is None:
            self._later()
        return False

    async def drain(self) -> None:
        """Wait until everything queued so far is written (or the writer gave up: ``failure``)."""
        while (self.pending or self._in_flight is not None) and self.failure is None:
            if self._in_flight is None and (self._timer is None or not self._failures):
                self._ready(urgent=True)  # (a retry's back-off is not cut short)
            waiter = asyncio.get_running_loop().create_future()
            self._idle.append(waiter)
            await waiter

    async def close(self) -> None:
        """Write what is left; if the terminal event never made it, release the conversation
        anyway so it is not stuck busy (after a write failure the run's repair does that)."""
        await self.drain()
        self._cancel_timer()
        if self.final is None and self.failure is None:
            patch = MessagePatch(append_text="".join(self.chunks), status="incomplete", release=True)
            await self.committer.append_batch(self.conversation_id, [], message_id=self.message_id, patch=patch)

    # ------------------------------------------------------------ the committer's side

    def take(self) -> Item | None:
        """The batch to write now: everything pending, with the message's patch if it ends."""
        self._enlisted = False
        if not self.pending or self.failure is not None or self._in_flight is not None:
            return None
        self._urgent = False
        batch, self.pending = self.pending, []
        done = batch[-1] if isinstance(batch[-1], ev.MessageComplete) else None
        patch: MessagePatch | None = None
        if done is not None:
            status = run_status(done.success, done.stop_reason, self.error)
            patch = MessagePatch(
                append_text="".join(self.chunks), status=status, stop_reason=done.stop_reason,
                usage=done.usage.model_dump(), error=None if done.success else self.error,
                release=True,
            )
        self._in_flight = (batch, patch, done)
        return (self.conversation_id, batch, self.message_id, patch)

    def written(self, failure: BaseException | None) -> None:
        """The batch in flight is committed (``failure`` None), or was not."""
        assert self._in_flight is not None
        batch, patch, done = self._in_flight
        self._in_flight = None
        if failure is None:
            self._failures = 0
            if self.on_durable is not None:
                self.on_durable(batch[-1].seq)
            if patch is not None and done is not None:
                self.final = {"status": patch.status, "stop_reason": done.stop_reason}
            if self.pending:
                if self._urgent or len(self.pending) >= self.batch_size:
                    self._ready()
                else:
                    self._later()
        else:
            self._failed(batch, failure)
        if (not self.pending and self._in_flight is None) or self.failure is not None:
            self._wake_drains()

    def _failed(self, batch: list[ev.Event], exc: BaseException) -> None:
        self._failures += 1
        log.warning("event log write failed (attempt %d): %s", self._failures, _describe(exc))
        # A constraint violation (conversation deleted mid-run, seq taken by a process that
        # thought this run dead) will not heal by retrying.
        if self._failures >= self.max_attempts or isinstance(exc, sa.exc.IntegrityError):
            # Give up: nothing more is written; the run ends with a storage error and keeps
            # these for its repair (runs/manager.py).
            log.error("event log: %d event(s) of message %s not saved: %s",
                      len(batch) + len(self.pending), self.message_id, _describe(exc))
            self.failure = exc
            self.unsaved = batch + self.pending + self.unsaved
            self.pending = []
            self._cancel_timer()
            return
        self.pending, self._urgent = batch + self.pending, True
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(0.1 * self._failures, self._ready, True)

    def _ready(self, urgent: bool = False) -> None:
        """The batch is ready: enlist with the committer (once; a batch in flight goes first)."""
        self._urgent = self._urgent or urgent
        self._cancel_timer()
        if not self._enlisted and self._in_flight is None and self.failure is None:
            self._enlisted = True
            self.committer.enlist(self)

    def _later(self) -> None:
        """Ready after ``interval``; at once with no interval (the committer still gathers what
        else the stream publishes before it writes, as it waits for its turn on the loop)."""
        if self.interval <= 0:
            self._ready()
        elif self._timer is None and not self._enlisted:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._ready, True)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake_drains(self) -> None:
        waiters, self._idle = self._idle, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


def _describe(exc: BaseException) -> str:
    """One line for the log: the database's own message without the SQL and its parameters
    (which hold model and filing text)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return f"{type(orig or exc).__name__}: {text[0][:200] if text else ''}"
