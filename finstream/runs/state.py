"""What a run holds in memory (``_Run``, ``_RemoteFeed``) and this process's registry of them
(``LiveRuns``): the manager adds and forgets runs, the tailer reads them.

A ``_Run`` keeps only the events not yet durable in the log (older ones are read back from it:
holding every event object made the garbage collector a third of a stream's cost), the text as
chunks, and the queues of live tailers.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right

from finstream import events as ev


class _Run:
    """A run in this process (see the module docstring)."""

    def __init__(self, conversation_id: str, message_id: str, seq_start: int, prefix: str) -> None:
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.seq_start = seq_start
        self.prefix = prefix
        self.events: list[ev.Event] = []  # every published event with seq > durable_seq
        self.seqs: list[int] = []
        self.durable_seq = seq_start - 1
        self.last_seq = seq_start - 1
        # Chunks, not one growing str: `self.text += x` on an attribute copies the whole text.
        self.chunks: list[str] = []
        self.chunk_seqs: list[int] = []
        self.tailers: set[asyncio.Queue] = set()
        # Tailers that get an event only once it is committed to the log (the HTTP transports:
        # a client resuming on another replica after this process dies then misses nothing and
        # sees nothing the log does not have).
        self.durable_tailers: set[asyncio.Queue] = set()
        self.task: asyncio.Task | None = None
        self.done = asyncio.Event()
        self.stop_reason = "stopped"  # or "interrupted" when the server shuts down

    def publish(self, event: ev.Event, *, durable: bool = False) -> None:
        """Hand ``event`` to live tailers (and to durable ones when it is committed already)."""
        if durable:
            self.last_seq = max(self.last_seq, event.seq)
            for q in self.tailers | self.durable_tailers:
                q.put_nowait(event)
            return
        if event.type == "text_delta":
            self.chunks.append(event.text)
            self.chunk_seqs.append(event.seq)
        self.events.append(event)
        self.seqs.append(event.seq)
        self.last_seq = event.seq
        for q in self.tailers:
            q.put_nowait(event)

    def publish_text(self, event: ev.TextDelta, seq: int, text: str) -> None:
        """``publish(event)`` for a text delta whose seq and text the caller has read already (the
        run's hot path: no type check, no attribute lookups on the event)."""
        self.chunks.append(text)
        self.chunk_seqs.append(seq)
        self.events.append(event)
        self.seqs.append(seq)
        self.last_seq = seq
        if self.tailers:
            for q in self.tailers:
                q.put_nowait(event)

    def durable(self, seq: int) -> None:
        """Events up to ``seq`` are committed to the log: drop them from memory."""
        self.durable_seq = max(self.durable_seq, seq)
        i = bisect_right(self.seqs, self.durable_seq)
        if i and self.durable_tailers:
            for event in self.events[:i]:
                for q in self.durable_tailers:
                    q.put_nowait(event)
        if i:
            del self.events[:i]
            del self.seqs[:i]

    def subscribe(self, after_seq: int, *, durable: bool = False) -> tuple[asyncio.Queue, list[ev.Event], int]:
        """Register a live queue and snapshot the in-memory events after ``after_seq``, in one
        step (no await between: nothing can slip between them). Also returns the first seq held
        in memory: everything after ``after_seq`` and before it is in the log already.
        ``durable``: the queue gets events as they commit; the snapshot is empty (all that is
        committed is in the log)."""
        q: asyncio.Queue = asyncio.Queue()
        if durable:
            self.durable_tailers.add(q)
            return q, [], self.durable_seq + 1
        self.tailers.add(q)
        snapshot = self.events[bisect_right(self.seqs, after_seq) :]
        first_in_memory = snapshot[0].seq if snapshot else self.last_seq + 1
        return q, snapshot, first_in_memory

    def text_before(self, seq: int) -> str:
        return self.prefix + "".join(self.chunks[: bisect_left(self.chunk_seqs, seq)])

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.tailers.discard(q)
        self.durable_tailers.discard(q)

    def finish(self) -> None:
        self.done.set()
        for q in self.tailers | self.durable_tailers:
            q.put_nowait(None)


class _RemoteFeed:
    """One poller per conversation streaming in another process, shared by local tailers."""

    def __init__(self, cursor: int) -> None:
        self.cursor = cursor
        self.subscribers: set[asyncio.Queue] = set()
        self.task: asyncio.Task | None = None


class LiveRuns:
    """This process's runs, by conversation and by message. The manager adds and forgets them;
    the tailer only reads them."""

    def __init__(self) -> None:
        self._by_conversation: dict[str, _Run] = {}
        self._by_message: dict[str, _Run] = {}

    def add(self, run: _Run) -> None:
        self._by_conversation[run.conversation_id] = run
        self._by_message[run.message_id] = run

    def forget(self, run: _Run) -> None:
        if self._by_conversation.get(run.conversation_id) is run:
            del self._by_conversation[run.conversation_id]
        self._by_message.pop(run.message_id, None)

    def in_conversation(self, conversation_id: str) -> _Run | None:
        return self._by_conversation.get(conversation_id)

    def of_message(self, message_id: str) -> _Run | None:
        return self._by_message.get(message_id)

    def conversations(self) -> list[str]:
        return list(self._by_conversation)

    def message_ids(self) -> list[str]:
        return list(self._by_message)

    def __len__(self) -> int:
        return len(self._by_conversation)
