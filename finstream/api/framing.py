"""The per-event work of the streaming transports, kept cheap: an event's JSON and SSE frame, and
reading a tail in the batches its events became ready in (a committed batch reaches a tailer in
one go, so SSE writes it as one chunk instead of one send per delta).

``event_json``/``sse_frame`` produce exactly the bytes of ``events.event_to_json`` and
``events.sse_frame``; text deltas (most of a stream) skip pydantic's generic dump.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Generator
from json.encoder import encode_basestring_ascii
from typing import Any, TypeVar, cast

from finstream import events as ev

# json.dumps's own escaping of a string (ensure_ascii, quotes included; C): a delta's JSON is
# written around it in the protocol's key order, without building a dict and walking it.
_quote = encode_basestring_ascii

T = TypeVar("T")

MAX_BATCH = 256  # events per chunk at most (a long backlog still goes out in pieces)


def event_json(event: ev.Event, *, accumulated: bool = True) -> str:
    """``events.event_to_json``, with a fast path for text and thinking deltas."""
    kind = type(event)
    if kind is ev.TextDelta:
        text = cast(ev.TextDelta, event)
        head = (f'{{"seq":{int(text.seq)},"message_id":{_quote(text.message_id)},"type":"text_delta",'
                f'"text":{_quote(text.text)}')
        if not accumulated:
            return head + "}"
        so_far = text.accumulated_text
        return head + (',"accumulated_text":null}' if so_far is None else f',"accumulated_text":{_quote(so_far)}}}')
    if kind is ev.ThinkingDelta:
        return (f'{{"seq":{int(event.seq)},"message_id":{_quote(event.message_id)},"type":"thinking_delta",'
                f'"text":{_quote(cast(ev.ThinkingDelta, event).text)}}}')
    return ev.event_to_json(event, accumulated=accumulated)


def sse_frame(event: ev.Event, *, accumulated: bool = True, retry_ms: int | None = None) -> str:
    """``events.sse_frame`` (one frame: ``id:`` the seq, ``event:`` the type, ``data:`` the JSON)."""
    retry = "" if retry_ms is None else f"retry: {int(retry_ms)}\n"
    return f"id: {event.seq}\nevent: {event.type}\n{retry}data: {event_json(event, accumulated=accumulated)}\n\n"


class _Resumed:
    """Awaiting this carries on a coroutine that was stepped by hand up to its first suspension
    (``pending``: what it yielded there), exactly as if the awaiting task had run it from the start."""

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self.coro = coro
        self.pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, pending = self.coro, self.pending
        while True:
            try:
                value = yield pending
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # a cancellation (or any error) thrown into the task
                try:
                    pending = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    pending = coro.send(value)
                except StopIteration as done:
                    return done.value


def resumed(coro: Coroutine[Any, Any, Any], pending: Any) -> _Resumed:
    """An awaitable that finishes ``coro``, which was stepped by hand and yielded ``pending``."""
    return _Resumed(coro, pending)


async def ready_batches(events: AsyncIterator[T], limit: int = MAX_BATCH) -> AsyncIterator[list[T]]:
    """The events of ``events`` in lists: one that had to be waited for, then every one that is
    available at once after it (up to ``limit``). Nothing is merged, reordered or delayed: a
    list ends at the first event that is not there yet.

    Whether the next event is there is found by stepping the iterator's ``__anext__`` by hand:
    when it completes without suspending, the event was ready; when it suspends, that step is
    kept and awaited next (no task, no extra turn of the loop). Abandoned (the client left), the
    kept step is cancelled, so the tail's own cleanup runs as it would on a cancelled task."""
    pending: _Resumed | None = None
    try:
        while True:
            if pending is None:
                try:
                    first = await events.__anext__()
                except StopAsyncIteration:
                    return
            else:
                step, pending = pending, None
                try:
                    first = await step
                except StopAsyncIteration:
                    return
            batch = [first]
            ended = False
            failure: BaseException | None = None
            while len(batch) < limit:
                coro = cast(Coroutine[Any, Any, T], events.__anext__())
                try:
                    suspended_on = coro.send(None)
                except StopIteration as done:
                    batch.append(done.value)
                    continue
                except StopAsyncIteration:
                    ended = True
                    break
                except BaseException as exc:  # the tail failed: what it gave before still goes out
                    failure = exc
                    break
                pending = _Resumed(coro, suspended_on)
                break
            yield batch
            if failure is not None:
                raise failure
            if ended:
                return
    finally:
        if pending is not None:
            _abandon(pending.coro)


def _abandon(coro: Coroutine[Any, Any, Any]) -> None:
    """Cancel a step suspended mid-way (its ``finally`` blocks run now)."""
    try:
        coro.throw(asyncio.CancelledError())
    except (StopIteration, StopAsyncIteration, asyncio.CancelledError):
        return
    except Exception:  # the tail failed while cleaning up; nobody is left to tell
        return
    # It caught the cancellation and awaits again: close it (GeneratorExit runs its cleanup).
    coro.close()
