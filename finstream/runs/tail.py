"""Tailing: a run's events from any cursor, first from the log, then live, with no gap and no
duplicate at the seam; and following a run that streams in another process through the log: one
follower per conversation per process, woken by PostgreSQL NOTIFY (store/notify.py) as each batch
commits, polling as the fallback (SQLite, or while the listening connection is down).

``Tailer`` is held by the RunManager (``manager.tailer``) and given what it reads explicitly: the
store's event log and conversations, the registry of this process's live runs (the manager adds
and forgets runs; the tailer only reads them), and the LISTEN connection (None: poll). It is the
only place that builds ``accumulated_text``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Protocol

from finstream import events as ev
from finstream.runs.state import LiveRuns, _RemoteFeed
from finstream.store.protocols import Conversations, EventLogReader

if TYPE_CHECKING:
    from finstream.store.notify import LogListener
    from finstream.store.store import Store

log = logging.getLogger("finstream.runs")

PAGE = 500  # events per log read while catching up


def _accumulate(texts: dict[str, str], event: ev.TextDelta) -> ev.TextDelta:
    """``event`` with its accumulated_text: ``texts`` holds each message's text before it."""
    text = texts.get(event.message_id, "") + event.text
    texts[event.message_id] = text
    return event.model_copy(update={"accumulated_text": text})


async def with_accumulated_text(events: AsyncIterator[ev.Event]) -> AsyncIterator[ev.Event]:
    """``events`` straight from the agent loop (the CLI), with accumulated_text filled as a
    tailer fills it."""
    texts: dict[str, str] = {}
    async for event in events:
        yield _accumulate(texts, event) if isinstance(event, ev.TextDelta) else event


class TailStore(EventLogReader, Conversations, Protocol):
    """What a tailer reads: the event log, and the conversations' and messages' state."""


def log_listener(store: Store) -> LogListener | None:
    """The LISTEN connection for ``store``'s event log (not connected until first used), or None
    when the database has no LISTEN/NOTIFY (SQLite)."""
    if store.dialect != "postgresql":
        return None
    from finstream.store.notify import LogListener, libpq_url

    schema = store.schema
    return LogListener(libpq_url(store.engine), store.notify_channel,
                       options=f"-csearch_path={schema}" if schema else None)


class Tailer:
    """Every tail of this process's RunManager (see the module docstring)."""

    def __init__(self, store: TailStore, live: LiveRuns, listener: LogListener | None = None, *,
                 poll_interval: float = 0.2, notify_fallback: float = 2.0) -> None:
        self.store = store
        self.live = live
        self.listener = listener
        self.poll_interval = poll_interval
        self.notify_fallback = notify_fallback
        self.feeds: dict[str, _RemoteFeed] = {}  # conversation_id -> poller of a remote run

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up."""
        return self.listener is not None and self.listener.healthy

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.close()

    async def tail(
        self,
        conversation_id: str,
        *,
        after_seq: int = 0,
        message_id: str | None = None,
        follow: bool = True,
        accumulated: bool = True,
        durable: bool = False,
    ) -> AsyncGenerator[ev.Event, None]:
        """Events with seq > after_seq: from the log, then live, without gap or duplicate.

        Ends after the followed message's final message_complete (``message_id``, else the
        conversation's active run, else the end of the log). ``follow=False`` returns what exists
        now without waiting. A run in another process is followed by polling the log.
        ``accumulated=False`` leaves accumulated_text None (saves work for clients that drop it).
        ``durable=True`` yields a local run's events only once they are committed to the log, so
        what a client saw is always what any replica can resume from (the HTTP transports).
        """
        cursor = after_seq
        ended = False
        texts: dict[str, str] = {}

        async def fill(event: ev.Event) -> ev.Event:
            if not accumulated or not isinstance(event, ev.TextDelta):
                return event
            if event.message_id not in texts:
                texts[event.message_id] = await self._text_before(
                    conversation_id, event.message_id, event.seq)
            return _accumulate(texts, event)

        while True:
            run = self.live.in_conversation(conversation_id)
            if run is not None and (message_id is None or run.message_id == message_id):
                q, snapshot, first_in_memory = run.subscribe(cursor, durable=durable)
                try:
                    # Durable already: from the log, then the snapshot, then the live queue.
                    async for event in self._logged(conversation_id, cursor, first_in_memory):
                        yield await fill(event)
                        cursor = event.seq
                    for event in snapshot:
                        if event.seq > cursor:
                            yield await fill(event)
                            cursor = event.seq
                    if not follow:
                        return
                    while True:
                        event = await q.get()
                        if event is None:
                            return
                        if event.seq > cursor:
                            yield await fill(event)
                            cursor = event.seq
                finally:
                    run.unsubscribe(q)

            page = await self.store.read_events(conversation_id, cursor, PAGE)
            for event in page:
                yield await fill(event)
                cursor = event.seq
                if await self._is_end(conversation_id, message_id, event):
                    return
            if page:
                continue  # maybe more, or a local run started meanwhile
            run = self.live.in_conversation(conversation_id)
            if run is not None and (message_id is None or run.message_id == message_id):
                continue  # a run started here meanwhile: attach to it
            if not follow:
                return
            # Nothing more in the log and no local run: is a run streaming in another process?
            if not await self._remote_streaming(conversation_id, message_id):
                if ended:
                    return
                # The final events commit with the release: one more read gets them all.
                ended = True
                continue
            ended = False
            # Follow the other process's run through this process's one poller for the
            # conversation (1,000 viewers on a replica cost one query per poll, not 1,000).
            feed = self._feed(conversation_id, cursor)
            q = asyncio.Queue()
            feed.subscribers.add(q)
            try:
                # Events up to the feed's cursor are in the log already.
                async for event in self._logged(conversation_id, cursor, feed.cursor + 1):
                    yield await fill(event)
                    cursor = event.seq
                while (event := await q.get()) is not None:
                    if event.seq <= cursor:
                        continue
                    yield await fill(event)
                    cursor = event.seq
                    if await self._is_end(conversation_id, message_id, event):
                        return
            finally:
                feed.subscribers.discard(q)

    async def _logged(self, conversation_id: str, after: int, before: int) -> AsyncIterator[ev.Event]:
        """The logged events with after < seq < before, a page at a time."""
        while after < before - 1:
            page = await self.store.read_events(conversation_id, after, PAGE, before_seq=before)
            if not page:
                return
            for event in page:
                yield event
            after = page[-1].seq

    async def _is_end(self, conversation_id: str, message_id: str | None, event: ev.Event) -> bool:
        """True at the followed message's last message_complete (not one a continuation follows)."""
        return (
            event.type == ev.TERMINAL_TYPE
            and event.message_id == message_id
            and await self._settled(conversation_id, message_id, event.seq)
        )

    def _feed(self, conversation_id: str, cursor: int) -> _RemoteFeed:
        feed = self.feeds.get(conversation_id)
        if feed is None:
            feed = _RemoteFeed(cursor)
            self.feeds[conversation_id] = feed
            feed.task = asyncio.get_running_loop().create_task(self._poll(conversation_id, feed))
        return feed

    def _log_listener(self) -> LogListener | None:
        """This process's LISTEN connection (PostgreSQL only), started on first use."""
        if self.listener is not None:
            self.listener.start()
        return self.listener

    async def _await_log(self, conversation_id: str, cursor: int) -> None:
        """Until the log may have an event past ``cursor``: a notification, or the poll interval
        (a longer safety-net interval while notifications flow)."""
        listener = self._log_listener()
        if listener is None or not listener.healthy:
            await asyncio.sleep(self.poll_interval)
            return
        await listener.wait(conversation_id, cursor, self.notify_fallback)

    async def _poll(self, conversation_id: str, feed: _RemoteFeed) -> None:
        """Follow a conversation's log while another process streams into it, and hand the new
        events to this process's tailers of it: read when NOTIFY says a batch committed (or the
        poll interval passed), deliver, wait again."""
        final = False
        listener = self._log_listener()
        if listener is not None:
            listener.watch(conversation_id)
            # From the moment LISTEN is in place no commit goes unnoticed; until then, poll.
            await listener.ready(timeout=self.poll_interval)
        try:
            while feed.subscribers:
                page = await self.store.read_events(conversation_id, feed.cursor, 1000)
                if page:
                    feed.cursor = page[-1].seq
                    for event in page:
                        for q in feed.subscribers:
                            q.put_nowait(event)
                    # More to read, or a message ended (read again: is anything streaming
                    # still?); else wait for the next commit.
                    if len(page) < 1000 and page[-1].type != ev.TERMINAL_TYPE:
                        await self._await_log(conversation_id, feed.cursor)
                    continue
                if final:
                    break
                if self.live.in_conversation(conversation_id) is not None or not await self._remote_streaming(
                    conversation_id, None
                ):
                    final = True  # the last events commit with the release: read once more
                    continue
                await self._await_log(conversation_id, feed.cursor)
        except Exception:
            log.exception("following conversation %s failed", conversation_id)
        finally:
            if listener is not None:
                listener.unwatch(conversation_id)
            if self.feeds.get(conversation_id) is feed:
                del self.feeds[conversation_id]
            for q in feed.subscribers:
                q.put_nowait(None)  # tailers go back to their own loop

    async def _settled(self, conversation_id: str, message_id: str, seq: int) -> bool:
        """True when ``seq`` is the message's last event and nothing streams more into it."""
        if self.live.of_message(message_id) is not None:
            return False
        msg = await self.store.get_message(message_id)
        if msg is not None and msg.status == "streaming":
            return False
        return seq >= await self.store.last_seq(conversation_id, message_id=message_id)

    async def _remote_streaming(self, conversation_id: str, message_id: str | None) -> bool:
        if message_id is not None:
            msg = await self.store.get_message(message_id)
            return msg is not None and msg.status == "streaming"
        conv = await self.store.get_conversation(conversation_id)
        return conv is not None and conv.active_message_id is not None

    async def _text_before(self, conversation_id: str, message_id: str, seq: int) -> str:
        run = self.live.of_message(message_id)
        if run is not None and seq >= run.seq_start:
            return run.text_before(seq)
        return await self.store.message_text_before(conversation_id, message_id, seq)
