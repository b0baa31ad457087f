"""Runs: one background task per assistant message, an append-only event log, and tailers.

A run drives ``finstream.agent.run_turn``; every event is fanned out in memory to live tailers at
once and appended to the log in small batches (see finstream/store/writer.py: a flush every
``batch_size`` events or ``flush_interval`` seconds, and at once on artifacts and the terminal event). A tailer reads from
any cursor: first the log, then live, with no gap and no duplicate at the seam (see ``tail``).
No consumer owns a run; only ``stop`` ends it early.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import AsyncIterator, Callable
from typing import Any

from finstream import events as ev
from finstream.agent import CONTINUE_PROMPT, Turn, run_turn
from finstream.providers.base import Provider
from finstream.store import AsyncStore, ConversationBusyError, MessagePatch, NotFoundError, Store
from finstream.store.writer import EventLogWriter
from finstream.tools.base import Toolbox

log = logging.getLogger(__name__)

class RunBusyError(ConversationBusyError):
    """A run is already streaming in this conversation (in this or another process)."""


def _instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str, me: str) -> bool:
    """True when ``owner`` ("host:pid:token") is a process on this host that no longer runs, or
    an earlier life of this very pid (containers restart as pid 1 on the same host name)."""
    try:
        host, pid, token = owner.rsplit(":", 2)
        my_host, my_pid, my_token = me.rsplit(":", 2)
        if host != my_host:
            return False
        if pid == my_pid:
            return token != my_token
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError, OSError):
        return False
    return False


class _Run:
    """A run in this process: the events not yet durable in the log (older ones are read back from
    it: holding every event object made the garbage collector a third of a stream's cost), the
    text as chunks, and the queues of live tailers."""

    def __init__(self, conversation_id: str, message_id: str, seq_start: int, prefix: str) -> None:
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.seq_start = seq_start
        self.prefix = prefix
        self.events: list[ev.Event] = []  # every published event with seq > durable_seq
        self.seqs: list[int] = []
        self.durable_seq = seq_start - 1
        self.last_seq = seq_start - 1
        self.last_type = ""
        # Chunks, not one growing str: `self.text += x` on an attribute copies the whole text.
        self.chunks: list[str] = []
        self.chunk_seqs: list[int] = []
        self.tailers: set[asyncio.Queue] = set()
        self.task: asyncio.Task | None = None
        self.done = asyncio.Event()
        self.final: dict[str, Any] | None = None
        self.stop_reason = "stopped"  # or "interrupted" when the server shuts down

    def publish(self, event: ev.Event) -> None:
        if event.type == "text_delta":
            self.chunks.append(event.text)
            self.chunk_seqs.append(event.seq)
            # The run owns the event now; tailers rebuild accumulated_text for their consumers.
            # (Straight into __dict__: pydantic's __setattr__ costs more than the rest of publish.)
            event.__dict__["accumulated_text"] = None
        self.events.append(event)
        self.seqs.append(event.seq)
        self.last_seq = event.seq
        self.last_type = event.type
        for q in self.tailers:
            q.put_nowait(event)

    def durable(self, seq: int) -> None:
        """Events up to ``seq`` are committed to the log: drop them from memory."""
        self.durable_seq = max(self.durable_seq, seq)
        i = bisect_right(self.seqs, self.durable_seq)
        if i:
            del self.events[:i]
            del self.seqs[:i]

    def subscribe(self, after_seq: int) -> tuple[asyncio.Queue, list[ev.Event], int]:
        """Register a live queue and snapshot the in-memory events after ``after_seq``, in one
        step (no await between: nothing can slip between them). Also returns the first seq held
        in memory: everything after ``after_seq`` and before it is in the log already."""
        q: asyncio.Queue = asyncio.Queue()
        self.tailers.add(q)
        snapshot = self.events[bisect_right(self.seqs, after_seq) :]
        first_in_memory = snapshot[0].seq if snapshot else self.last_seq + 1
        return q, snapshot, first_in_memory

    def text_before(self, seq: int) -> str:
        return self.prefix + "".join(self.chunks[: bisect_left(self.chunk_seqs, seq)])

    def finish(self) -> None:
        self.done.set()
        for q in self.tailers:
            q.put_nowait(None)


class _RemoteFeed:
    """One poller per conversation streaming in another process, shared by local tailers."""

    def __init__(self, cursor: int) -> None:
        self.cursor = cursor
        self.subscribers: set[asyncio.Queue] = set()
        self.task: asyncio.Task | None = None


class RunManager:
    """Starts, stops and tails runs. All methods run on one asyncio loop."""

    def __init__(
        self,
        store: Store | AsyncStore,
        provider_factory: Callable[[], Provider],
        toolbox: Toolbox,
        settings: Any,
        *,
        batch_size: int = 256,
        flush_interval: float = 0.05,
        poll_interval: float = 0.2,
        heartbeat_interval: float = 5.0,
        stale_after: float = 30.0,
    ) -> None:
        self.store = store if isinstance(store, AsyncStore) else AsyncStore(store)
        self.provider_factory = provider_factory
        self.toolbox = toolbox
        self.settings = settings
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.stale_after = stale_after
        self.instance_id = _instance_id()
        self._runs: dict[str, _Run] = {}  # conversation_id -> the run streaming there
        self._by_message: dict[str, _Run] = {}
        self._housekeeper: asyncio.Task | None = None
        self._feeds: dict[str, _RemoteFeed] = {}  # conversation_id -> poller of a remote run

    # ---------------------------------------------------------------- lifecycle

    async def recover(self) -> list[str]:
        """At start-up: mark messages of dead processes "interrupted" (see Store)."""
        return await self.store.mark_streaming_interrupted(
            is_dead=lambda owner: _owner_is_dead(owner, self.instance_id),
            stale_after=self.stale_after,
        )

    def start_housekeeping(self) -> None:
        """Heartbeat this process's runs and sweep other processes' dead ones, periodically."""
        if self._housekeeper is None or self._housekeeper.done():
            self._housekeeper = asyncio.get_running_loop().create_task(self._housekeep())

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self.store.heartbeat(list(self._by_message))
                await self.recover()
            except Exception:  # a database hiccup must not kill housekeeping
                log.exception("run housekeeping failed")

    async def shutdown(self) -> None:
        """End every local run as "interrupted" (continuable, as after a crash, but with its
        terminal event logged at once), and housekeeping."""
        if self._housekeeper:
            self._housekeeper.cancel()
        for conversation_id in list(self._runs):
            await self.stop(conversation_id, reason="interrupted")

    # ---------------------------------------------------------------- runs

    async def start(self, conversation_id: str, question: str) -> str:
        """Ask ``question``; returns the assistant message id. Raises RunBusyError, NotFoundError,
        ValueError (empty question)."""
        if conversation_id in self._runs:
            raise RunBusyError(conversation_id, self._runs[conversation_id].message_id)
        history = await self._history(conversation_id)
        try:
            turn = await self.store.begin_turn(conversation_id, question, owner=self.instance_id)
        except ConversationBusyError as exc:
            raise RunBusyError(conversation_id, exc.message_id) from None
        history.append({"role": "user", "content": question})
        return await self._launch(turn.conversation_id, turn.assistant.id, turn.seq_start, history, "")

    async def continue_message(self, conversation_id: str, message_id: str) -> str:
        """Continue an incomplete/interrupted/stopped answer into the same message."""
        if conversation_id in self._runs:
            raise RunBusyError(conversation_id, self._runs[conversation_id].message_id)
        history = await self._history(conversation_id, until=message_id)
        try:
            turn = await self.store.begin_turn(
                conversation_id, None, continue_message_id=message_id, owner=self.instance_id
            )
        except ConversationBusyError as exc:
            raise RunBusyError(conversation_id, exc.message_id) from None
        prefix = turn.assistant.text
        if prefix:
            history.append({"role": "assistant", "content": prefix})
        history.append({"role": "user", "content": CONTINUE_PROMPT})
        return await self._launch(conversation_id, message_id, turn.seq_start, history, prefix)

    async def _history(self, conversation_id: str, until: str | None = None) -> list[dict]:
        """Anthropic-format history from earlier messages (text only), alternating roles."""
        messages = await self.store.list_messages(conversation_id)
        if not messages and await self.store.get_conversation(conversation_id) is None:
            raise NotFoundError(f"conversation {conversation_id}: not found")
        out: list[dict] = []
        for m in messages:
            if m.id == until:
                break
            if not m.text.strip():
                continue
            if out and out[-1]["role"] == m.role:
                out[-1]["content"] += "\n\n" + m.text  # the API wants roles to alternate
            else:
                out.append({"role": m.role, "content": m.text})
        if out and out[0]["role"] == "assistant":
            out.pop(0)
        if out and out[-1]["role"] == "user" and until is None:
            out.pop()  # an unanswered question: the new one replaces it
        return out

    async def _launch(
        self, conversation_id: str, message_id: str, seq_start: int, history: list[dict], prefix: str
    ) -> str:
        run = _Run(conversation_id, message_id, seq_start, prefix)
        self._runs[conversation_id] = run
        self._by_message[message_id] = run
        try:
            filings = await self.store.filings(conversation_id)
            counts = await self._artifact_counts(message_id) if prefix or seq_start > 1 else {}
            turn = Turn(conversation_id, message_id, history, filings, seq_start, prefix, counts)
            provider = self.provider_factory()
        except BaseException:
            await self._abort_launch(run)
            raise
        run.task = asyncio.get_running_loop().create_task(self._drive(run, provider, turn))
        # Heartbeats keep other processes from taking a long run for a dead one.
        self.start_housekeeping()
        return message_id

    async def _artifact_counts(self, message_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in await self.store.message_artifacts(message_id):
            counts[a.kind] = max(counts.get(a.kind, 0), a.index + 1)
        return counts

    async def _abort_launch(self, run: _Run) -> None:
        self._forget(run)
        patch = MessagePatch(status="error", stop_reason="error", release=True)
        await self.store.append_batch(run.conversation_id, [], message_id=run.message_id, patch=patch)
        run.finish()

    def _forget(self, run: _Run) -> None:
        if self._runs.get(run.conversation_id) is run:
            del self._runs[run.conversation_id]
        self._by_message.pop(run.message_id, None)

    async def _drive(self, run: _Run, provider: Provider, turn: Turn) -> None:
        writer = EventLogWriter(
            self.store, run.conversation_id, run.message_id,
            batch_size=self.batch_size, interval=self.flush_interval, on_durable=run.durable,
        )
        next_seq = turn.seq_start
        ending: list[ev.Event] = []  # the terminal event (with its error, when we make one)
        try:
            async for event in run_turn(
                provider, self.toolbox, turn,
                max_tokens=self.settings.max_tokens, max_rounds=self.settings.max_tool_rounds,
            ):
                if event.type == ev.TERMINAL_TYPE:
                    ending.append(event)
                    continue
                next_seq = event.seq + 1
                run.publish(event)
                if writer.add_nowait(event):
                    await writer.drain()
        except asyncio.CancelledError:
            if run.stop_reason == "interrupted":  # the server is shutting down
                ending.append(ev.Error(
                    seq=next_seq, message_id=run.message_id, code="interrupted",
                    message="The server restarted while this answer was streaming; "
                    "it can be continued.", retryable=True,
                ))
            ending.append(ev.MessageComplete(
                seq=next_seq + len(ending), message_id=run.message_id, success=False,
                stop_reason=run.stop_reason,
            ))
        except Exception as exc:  # run_turn never raises, but a run must always end cleanly
            log.exception("run %s failed", run.message_id)
            ending = [
                ev.Error(seq=next_seq, message_id=run.message_id, code="internal",
                         message=f"{type(exc).__name__}: {exc}", retryable=True),
                ev.MessageComplete(seq=next_seq + 1, message_id=run.message_id, success=False,
                                   stop_reason="error"),
            ]
        try:
            for event in ending:
                writer.add_nowait(event)
            await asyncio.shield(writer.close())
        except asyncio.CancelledError:
            pass  # stopped again while finishing: the shielded write still completes
        except Exception:
            log.exception("run %s: final write failed", run.message_id)
        finally:
            # The terminal event reaches tailers only once it is durable and the conversation is
            # free, so a client may ask its next question the moment it sees message_complete.
            run.final = writer.final
            self._forget(run)
            for event in ending:
                run.publish(event)
            run.finish()

    async def stop(self, conversation_id: str, *, reason: str = "stopped") -> bool:
        """Cancel the conversation's local run; it ends with message_complete(stopped).
        Returns False when no run streams here in this process."""
        run = self._runs.get(conversation_id)
        if run is None or run.task is None:
            return False
        run.stop_reason = reason
        run.task.cancel()
        await run.done.wait()
        return True

    def active_message(self, conversation_id: str) -> str | None:
        """The message a local run is streaming into, if any."""
        run = self._runs.get(conversation_id)
        return run.message_id if run else None

    async def wait(self, message_id: str) -> dict:
        """Wait for the message's run to end (local or remote); return its text, status,
        stop_reason, usage, error and artifacts."""
        run = self._by_message.get(message_id)
        if run is not None:
            await run.done.wait()
        while True:
            msg = await self.store.get_message(message_id)
            if msg is None:
                raise NotFoundError(f"message {message_id}: not found")
            if msg.status != "streaming" or message_id in self._by_message:
                break
            await asyncio.sleep(self.poll_interval)  # a run in another process
        if message_id in self._by_message:
            return await self.wait(message_id)  # continued meanwhile
        arts = await self.store.message_artifacts(message_id)
        return {
            "message_id": message_id, "conversation_id": msg.conversation_id, "text": msg.text,
            "status": msg.status, "stop_reason": msg.stop_reason, "usage": msg.usage or {},
            "error": msg.error,
            "artifacts": [{"kind": a.kind, "index": a.index, "seq": a.seq, "data": a.data} for a in arts],
        }

    # ---------------------------------------------------------------- tailing

    async def tail(
        self,
        conversation_id: str,
        *,
        after_seq: int = 0,
        message_id: str | None = None,
        follow: bool = True,
        accumulated: bool = True,
    ) -> AsyncIterator[ev.Event]:
        """Events with seq > after_seq: from the log, then live, without gap or duplicate.

        Ends after the followed message's final message_complete (``message_id``, else the
        conversation's active run, else the end of the log). ``follow=False`` returns what exists
        now without waiting. A run in another process is followed by polling the log.
        ``accumulated=False`` leaves accumulated_text None (saves work for clients that drop it).
        """
        cursor = after_seq
        ended = False
        texts: dict[str, str] = {}

        async def fill(event: ev.Event) -> ev.Event:
            if not accumulated or event.type != "text_delta":
                return event
            text = texts.get(event.message_id)
            if text is None:
                text = await self._text_before(conversation_id, event.message_id, event.seq)
            text += event.text
            texts[event.message_id] = text
            return event.model_copy(update={"accumulated_text": text})

        while True:
            run = self._runs.get(conversation_id)
            if run is not None and (message_id is None or run.message_id == message_id):
                q, snapshot, first_in_memory = run.subscribe(cursor)
                try:
                    while cursor < first_in_memory - 1:  # durable already: read from the log
                        page = await self.store.read_events(
                            conversation_id, cursor, 500, before_seq=first_in_memory
                        )
                        if not page:
                            break
                        for event in page:
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
                    run.tailers.discard(q)

            page = await self.store.read_events(conversation_id, cursor, 500)
            for event in page:
                yield await fill(event)
                cursor = event.seq
                if (
                    event.type == ev.TERMINAL_TYPE
                    and event.message_id == message_id
                    and await self._settled(conversation_id, message_id, event.seq)
                ):
                    return
            if page:
                continue  # maybe more, or a local run started meanwhile
            run = self._runs.get(conversation_id)
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
            q: asyncio.Queue = asyncio.Queue()
            feed.subscribers.add(q)
            feed_cursor = feed.cursor  # events up to here are in the log already
            try:
                while cursor < feed_cursor:
                    page = await self.store.read_events(
                        conversation_id, cursor, 500, before_seq=feed_cursor + 1
                    )
                    if not page:
                        break
                    for event in page:
                        yield await fill(event)
                        cursor = event.seq
                while (event := await q.get()) is not None:
                    if event.seq <= cursor:
                        continue
                    yield await fill(event)
                    cursor = event.seq
                    if (
                        event.type == ev.TERMINAL_TYPE
                        and event.message_id == message_id
                        and await self._settled(conversation_id, message_id, event.seq)
                    ):
                        return
            finally:
                feed.subscribers.discard(q)

    def _feed(self, conversation_id: str, cursor: int) -> _RemoteFeed:
        feed = self._feeds.get(conversation_id)
        if feed is None:
            feed = _RemoteFeed(cursor)
            self._feeds[conversation_id] = feed
            feed.task = asyncio.get_running_loop().create_task(self._poll(conversation_id, feed))
        return feed

    async def _poll(self, conversation_id: str, feed: _RemoteFeed) -> None:
        """Read a conversation's log every poll_interval while another process streams into it,
        and hand the new events to this process's tailers of it."""
        final = False
        try:
            while feed.subscribers:
                page = await self.store.read_events(conversation_id, feed.cursor, 1000)
                if page:
                    feed.cursor = page[-1].seq
                    for event in page:
                        for q in feed.subscribers:
                            q.put_nowait(event)
                    continue
                if final:
                    break
                if conversation_id in self._runs or not await self._remote_streaming(
                    conversation_id, None
                ):
                    final = True  # the last events commit with the release: read once more
                    continue
                await asyncio.sleep(self.poll_interval)
        except Exception:
            log.exception("following conversation %s failed", conversation_id)
        finally:
            if self._feeds.get(conversation_id) is feed:
                del self._feeds[conversation_id]
            for q in feed.subscribers:
                q.put_nowait(None)  # tailers go back to their own loop

    async def _settled(self, conversation_id: str, message_id: str, seq: int) -> bool:
        """True when ``seq`` is the message's last event and nothing streams more into it."""
        if message_id in self._by_message:
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
        run = self._by_message.get(message_id)
        if run is not None and seq >= run.seq_start:
            return run.text_before(seq)
        return await self.store.message_text_before(conversation_id, message_id, seq)
