"""PostgreSQL LISTEN/NOTIFY for the event log: a replica learns of another's new events at once.

The writing side (``notify``) adds ``pg_notify(channel, "conversation_id:seq")`` to the very
transaction that appends a batch, so the notification is delivered when, and only if, the batch
commits. The reading side (``LogListener``) is one dedicated connection per process, in
autocommit, that LISTENs on the channel and wakes the local followers of the conversation named
in each notification (``wait``). Followers still read the events from the log, so a lost or late
notification can only delay an event, never lose or reorder one: each wait is bounded by a
fallback poll, and while the listening connection is down followers poll as before.

One channel per store schema (deployments and test runs that share a database by schema do not
wake each other); payloads stay far below PostgreSQL's 8,000-byte limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("finstream.store.notify")

CHANNEL_PREFIX = "finstream_log"


def channel_for(schema: str | None) -> str:
    """The NOTIFY channel of a store schema (at most 63 bytes, PostgreSQL's identifier limit)."""
    name = f"{CHANNEL_PREFIX}_{schema}" if schema else CHANNEL_PREFIX
    if len(name) > 63:
        name = f"{CHANNEL_PREFIX}_{hashlib.sha1(name.encode()).hexdigest()[:20]}"
    return name


def notify(conn: sa.Connection, channel: str, conversation_id: str, seq: int) -> None:
    """Queue a notification in the current transaction (sent by PostgreSQL at commit)."""
    conn.exec_driver_sql("SELECT pg_notify(%s, %s)", (channel, f"{conversation_id}:{seq}"))


def libpq_url(engine: sa.Engine) -> str:
    """The engine's URL as psycopg itself takes it (no SQLAlchemy driver suffix)."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class LogListener:
    """One LISTEN connection per process, shared by every follower of a remote run.

    ``watch(cid)`` / ``unwatch(cid)`` mark the conversations this process follows (only theirs
    are remembered); ``await wait(cid, after, timeout)`` returns True as soon as a notification
    says the log has an event past ``after``, False after ``timeout``. Must be used on one loop.
    """

    def __init__(self, url: str, channel: str, *, options: str | None = None,
                 reconnect_delay: float = 0.5, on_notify: Callable[[float], None] | None = None) -> None:
        self.url = url
        self.channel = channel
        self.options = options  # libpq "options" (the search_path), as the store's engine has
        self.reconnect_delay = reconnect_delay
        self.on_notify = on_notify  # told the receive time of each notification (metrics)
        self.connected = asyncio.Event()
        self.latest: dict[str, int] = {}
        self.received = 0
        self._watched: dict[str, int] = {}
        self._waiters: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None

    @property
    def healthy(self) -> bool:
        return self.connected.is_set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen())

    async def ready(self, timeout: float = 5.0) -> bool:
        """Wait until the LISTEN is in place (notifications from then on are seen)."""
        self.start()
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def watch(self, conversation_id: str) -> None:
        self._watched[conversation_id] = self._watched.get(conversation_id, 0) + 1

    def unwatch(self, conversation_id: str) -> None:
        left = self._watched.get(conversation_id, 0) - 1
        if left > 0:
            self._watched[conversation_id] = left
            return
        self._watched.pop(conversation_id, None)
        self.latest.pop(conversation_id, None)

    async def wait(self, conversation_id: str, after: int, timeout: float) -> bool:
        """True when the log of ``conversation_id`` has (been notified of) an event past ``after``."""
        if self.latest.get(conversation_id, 0) > after:
            return True
        waiter = self._waiters.get(conversation_id)
        if waiter is None:
            waiter = self._waiters[conversation_id] = asyncio.Event()
        try:
            await asyncio.wait_for(waiter.wait(), timeout)
        except TimeoutError:
            return False
        return self.latest.get(conversation_id, 0) > after

    def _wake(self, conversation_id: str) -> None:
        waiter = self._waiters.pop(conversation_id, None)
        if waiter is not None:
            waiter.set()

    def _wake_all(self) -> None:
        for cid in list(self._waiters):
            self._wake(cid)

    def _deliver(self, payload: str) -> None:
        cid, _, seq_text = payload.rpartition(":")
        try:
            seq = int(seq_text)
        except ValueError:
            return  # not ours
        self.received += 1
        if self.on_notify is not None:
            self.on_notify(time.perf_counter())
        if cid in self._watched:
            if seq > self.latest.get(cid, 0):
                self.latest[cid] = seq
            self._wake(cid)

    async def _listen(self) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, options=self.options or None  # None: not passed
                ) as conn:
                    self._conn = conn
                    await conn.execute(f'LISTEN "{self.channel}"')
                    self.connected.set()
                    # Events may have committed while we were not listening: let followers read.
                    self._wake_all()
                    async for note in conn.notifies():
                        self._deliver(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarted, a network blip: poll meanwhile
                log.warning("LISTEN %s: connection lost (%s: %s); followers poll until it is back",
                            self.channel, type(exc).__name__, exc)
            finally:
                self.connected.clear()
                self._conn = None
                self._wake_all()
            await asyncio.sleep(self.reconnect_delay)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._wake_all()
