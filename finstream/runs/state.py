"""What a run holds in memory, per-run options, and who owns a run (shared by runs.py and
run_tail.py).

A ``_Run`` keeps only the events not yet durable in the log (older ones are read back from it:
holding every event object made the garbage collector a third of a stream's cost), the text as
chunks, and the queues of live tailers.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from bisect import bisect_left, bisect_right
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from finstream import events as ev


class RunOptions(BaseModel):
    """Per-run choices; None means the server's setting (FINSTREAM_MODEL / _MAX_TOKENS /
    _MAX_TOOL_ROUNDS). Ranges are checked here, so every transport rejects the same values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(
        None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/-]*$",
        description="Claude model name (only used with Claude; the demo analyst ignores it).",
    )
    max_tokens: int | None = Field(None, ge=1, le=128000, description="Max output tokens per model call.")
    max_rounds: int | None = Field(None, ge=1, le=32, description="Max model calls (tool rounds) per answer.")
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = Field(
        None, description="How deeply Claude thinks (output_config.effort; FINSTREAM_EFFORT by "
        "default). Only used with Claude's adaptive-thinking models.",
    )

    def resolve(self, settings: Any) -> dict[str, Any]:
        """The keyword arguments for ``run_turn``: these choices over the settings' defaults."""
        return {
            "model": self.model,  # None: the provider's configured model
            "max_tokens": self.max_tokens or settings.max_tokens,
            "max_rounds": self.max_rounds or settings.max_tool_rounds,
            "effort": self.effort or getattr(settings, "effort", None),
        }


def instance_name() -> str:
    """This replica's name: FINSTREAM_INSTANCE_NAME, else the host name (a container's id)."""
    return (os.environ.get("FINSTREAM_INSTANCE_NAME") or socket.gethostname()).replace(":", "_")


def instance_id() -> str:
    return f"{instance_name()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str, me: str) -> bool:
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
        self.final: dict[str, Any] | None = None
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
            # The run owns the event now; tailers rebuild accumulated_text for their consumers.
            # (Straight into __dict__: pydantic's __setattr__ costs more than the rest of publish.)
            event.__dict__["accumulated_text"] = None
        self.events.append(event)
        self.seqs.append(event.seq)
        self.last_seq = event.seq
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
