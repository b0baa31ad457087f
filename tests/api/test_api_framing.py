"""The streaming transports' per-event path (finstream/api/framing.py, sse._EventStream): the same
bytes as the protocol's own framing, events that are ready together written together (never
merged, reordered or held back), a tail abandoned mid-wait cleaned up, and the send timeout
still applied to a send that waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sse_starlette.sse import SendTimeoutError

from finstream import events as ev
from finstream.api import framing
from finstream.api.sse import _EventStream

SAMPLES: list[ev.Event] = [
    ev.TextDelta(seq=7, message_id="m1", text='é "q" \\ <b>\u2028\U0001f600\n', accumulated_text="so far é"),
    ev.TextDelta(seq=8, message_id="m1", text=""),
    ev.ThinkingDelta(seq=9, message_id="m1", text="reasoning\u00ff"),
    ev.MessageStart(seq=1, message_id="m1", conversation_id="c1"),
    ev.Error(seq=10, message_id="m1", code="storage", message="x", retryable=True),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_frames_are_byte_for_byte_the_protocols(event: ev.Event) -> None:
    for accumulated in (True, False):
        assert framing.event_json(event, accumulated=accumulated) == ev.event_to_json(event, accumulated=accumulated)
        for retry in (None, 1500):
            assert framing.sse_frame(event, accumulated=accumulated, retry_ms=retry) == ev.sse_frame(
                event, accumulated=accumulated, retry_ms=retry)


# Strings JSON must escape in every way it can: quotes and backslashes, control characters, NUL,
# a lone surrogate, characters outside the BMP, U+2028 (valid JSON, a line break to JavaScript).
TEXTS = ['"', "\\", "\x00\x01\x1f\x7f", "\t\r\n\b\f", "\ud800", "\U0001f600\u2028\u2029", "ÿ€", "w1 "]


@pytest.mark.parametrize("text", TEXTS)
def test_delta_fast_paths_escape_as_json_dumps_does(text: str) -> None:
    events: list[ev.Event] = [ev.ThinkingDelta(seq=2**40, message_id=f"m{text}", text=text)]
    events += [ev.TextDelta(seq=3, message_id=f"m{text}", text=text, accumulated_text=so_far)
               for so_far in (None, "", text + text)]
    for event in events:
        for accumulated in (True, False):
            assert framing.event_json(event, accumulated=accumulated) == ev.event_to_json(
                event, accumulated=accumulated)


class _Tail:
    """A tail fed by a queue (as a run's committed batches feed a durable tailer)."""

    def __init__(self) -> None:
        self.q: asyncio.Queue[int | None] = asyncio.Queue()
        self.cleaned = 0

    async def events(self) -> AsyncIterator[int]:
        try:
            while (item := await self.q.get()) is not None:
                yield item
        finally:
            self.cleaned += 1


async def test_events_ready_together_come_as_one_batch_in_order() -> None:
    tail = _Tail()

    async def commits() -> None:
        for batch in ([1, 2, 3], [4], [5, 6]):
            await asyncio.sleep(0.01)
            for item in batch:
                tail.q.put_nowait(item)
        await asyncio.sleep(0.01)
        tail.q.put_nowait(None)

    feeder = asyncio.create_task(commits())
    got = [b async for b in framing.ready_batches(tail.events())]
    await feeder
    assert got == [[1, 2, 3], [4], [5, 6]]
    assert tail.cleaned == 1


async def test_a_batch_is_capped_and_nothing_is_lost() -> None:
    tail = _Tail()
    for i in range(10):
        tail.q.put_nowait(i)
    tail.q.put_nowait(None)
    got = [b async for b in framing.ready_batches(tail.events(), limit=4)]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


async def test_a_tail_that_fails_still_delivers_what_came_before() -> None:
    async def failing() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise RuntimeError("log unreachable")

    got: list[list[int]] = []
    with pytest.raises(RuntimeError, match="log unreachable"):
        async for batch in framing.ready_batches(failing()):
            got.append(batch)
    assert got == [[1, 2]]


async def test_a_client_that_leaves_mid_wait_cleans_the_tail_up() -> None:
    tail = _Tail()
    tail.q.put_nowait(1)
    events = tail.events()
    batches = framing.ready_batches(events)
    assert await batches.__anext__() == [1]  # the look-ahead now waits inside the tail
    await batches.aclose()
    assert tail.cleaned == 1  # its finally ran (a run's tailer is unsubscribed)
    await events.aclose()  # and closing it again is harmless

    tail = _Tail()
    tail.q.put_nowait(1)
    seen: list[list[int]] = []

    async def consume() -> None:
        async for batch in framing.ready_batches(tail.events()):
            seen.append(batch)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    task.cancel()  # the server cancels the response while it waits for the next event
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [[1]] and tail.cleaned == 1


def _stream(timeout: float) -> _EventStream:
    async def nothing() -> AsyncIterator[bytes]:
        yield b""

    return _EventStream(nothing(), send_timeout=timeout)


async def test_a_send_that_waits_too_long_times_out() -> None:
    stuck = asyncio.Event()

    async def send(message: dict) -> None:
        await stuck.wait()  # a client that stopped reading: the socket never drains

    with pytest.raises(SendTimeoutError):
        await asyncio.wait_for(_stream(0.05)._send_with_timeout(send, {"type": "x"}), 5)


async def test_sends_that_complete_at_once_or_after_a_short_wait_go_through() -> None:
    sent: list[dict] = []

    async def at_once(message: dict) -> None:
        sent.append(message)

    async def after_a_wait(message: dict) -> None:
        await asyncio.sleep(0.01)
        sent.append(message)

    response = _stream(1.0)
    await response._send_with_timeout(at_once, {"n": 1})
    await response._send_with_timeout(after_a_wait, {"n": 2})
    assert sent == [{"n": 1}, {"n": 2}]


def test_the_overridden_send_is_still_the_one_sse_starlette_calls() -> None:
    """_EventStream overrides sse-starlette's private ``_send_with_timeout``; if an upgrade
    renames it, the override would silently stop applying. Fail here instead."""
    import inspect

    from sse_starlette.sse import EventSourceResponse

    assert "_send_with_timeout" in vars(EventSourceResponse)
    assert "_send_with_timeout" in inspect.getsource(EventSourceResponse)
    calls = [n for n, f in vars(EventSourceResponse).items()
             if callable(f) and n != "_send_with_timeout" and "_send_with_timeout" in inspect.getsource(f)]
    assert calls, "no method of EventSourceResponse calls _send_with_timeout any more"
