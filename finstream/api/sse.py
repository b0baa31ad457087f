"""Server-Sent Events: ``/api/conversation/{session_id}/message/stream``.

POST starts a run and streams it (for fetch-based readers); GET (what EventSource can do) streams
the active run or ``?message_id=``'s, resuming after ``Last-Event-ID`` (or ``?after=``). The
stream only tails the run's log: a client that goes away cancels its tailer, never the run.
sse-starlette does the transport (keep-alive pings, disconnect detection, send timeouts, graceful
shutdown); resuming is ours, and so is writing the events that are ready together as one chunk
(api/framing.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any, cast

import anyio
from fastapi import APIRouter, Header, Query, Request, Response
from sse_starlette import EventSourceResponse
from sse_starlette.sse import SendTimeoutError
from starlette.types import Message, Send

from finstream import events as ev
from finstream.api.errors import ApiError, error_response
from finstream.api.framing import ready_batches, resumed, sse_frame
from finstream.api.rest import MessageIn

router = APIRouter()

STREAM_PATH = "/api/conversation/{session_id}/message/stream"
PEEK_SECONDS = 1.0


def _cursor(last_event_id: str | None, after: int | None) -> int | None:
    """The resume cursor: the browser's Last-Event-ID wins over ``?after=`` (it is newer)."""
    if last_event_id is not None and last_event_id.strip() != "":
        try:
            value = int(last_event_id.strip())
        except ValueError:
            raise ApiError(400, "bad_request",
                           f"Last-Event-ID: {last_event_id[:40]!r} is not an event seq (a whole number)") from None
        if value < 0:
            raise ApiError(400, "bad_request", "Last-Event-ID: must not be negative")
        return value
    return after


async def _frames(events: AsyncIterator[ev.Event], *, accumulated: bool, retry_ms: int,
                  release: Any, thinking: bool = True) -> AsyncIterator[bytes]:
    """The frames, one chunk per batch of events that became ready together (a committed batch
    reaches the tail at once): one write and one send per batch, not per delta; every event is
    still its own frame, in order."""
    try:
        async for batch in ready_batches(events):
            if len(batch) == 1:  # at a model's pace, most batches (one commit each) hold one delta
                event = batch[0]
                # ?thinking=false: the client turned reasoning off
                if thinking or type(event) is not ev.ThinkingDelta:
                    yield sse_frame(event, accumulated=accumulated, retry_ms=retry_ms).encode()
                continue
            chunk = "".join(
                sse_frame(event, accumulated=accumulated, retry_ms=retry_ms) for event in batch
                if thinking or type(event) is not ev.ThinkingDelta
            )
            if chunk:
                yield chunk.encode()
    finally:
        release()
        await events.aclose()  # type: ignore[attr-defined]


async def _peek(events: AsyncIterator[ev.Event], wait: float = PEEK_SECONDS) -> AsyncIterator[ev.Event] | None:
    """None when the stream turns out empty within ``wait`` (a run that was just ending looks
    active for a moment); else the same events. Waiting longer for a live run's next event would
    hold back the response headers, so after ``wait`` the response starts anyway."""
    first = asyncio.ensure_future(events.__anext__())
    await asyncio.wait({first}, timeout=wait)
    if first.done() and isinstance(first.exception(), StopAsyncIteration):
        await events.aclose()  # type: ignore[attr-defined]
        return None

    async def joined() -> AsyncIterator[ev.Event]:
        try:
            try:
                yield await first
            except StopAsyncIteration:
                return
            async for event in events:
                yield event
        finally:
            first.cancel()
            await events.aclose()  # type: ignore[attr-defined]

    return joined()


class _EventStream(EventSourceResponse):
    """sse-starlette's response, with its per-send timeout armed only for a send that waits.

    Most sends complete at once (the socket takes the bytes); arming a timer scope for each of
    them cost more than framing the event. A send that has to wait (the client reads slowly)
    is given the same ``send_timeout`` from the moment it waits."""

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        coro = cast(Coroutine[Any, Any, None], send(message))
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return
        except BaseException:
            coro.close()
            raise
        with anyio.move_on_after(self.send_timeout) as scope:
            await resumed(coro, waiting_on)
        if scope.cancel_called:
            raise SendTimeoutError()


def _too_many(slots: Any) -> Response:
    return error_response(503, "too_many_streams",
                          f"the server is at its limit of {slots.limit} open streams; retry later",
                          headers={"Retry-After": "5"})


def _respond(request: Request, events: AsyncIterator[ev.Event], accumulated: bool,
             thinking: bool = True, *, acquired: bool = False) -> Response:
    state = request.app.state
    settings = state.api_settings
    slots = state.stream_slots
    if not acquired and not slots.try_acquire():
        return _too_many(slots)
    return _EventStream(
        _frames(events, accumulated=accumulated, retry_ms=settings.sse_retry_ms, release=slots.release,
                thinking=thinking),
        ping=settings.sse_ping_seconds,
        sep="\n",
        send_timeout=settings.sse_send_timeout,
        headers={"Cache-Control": "no-store"},
    )


async def _ending_or_204(request: Request, b: Any, session_id: str, cursor: int | None,
                         message_id: str | None, accumulated: bool) -> Response:
    ending = await b.missed_ending(session_id, cursor, message_id)
    if not ending:
        return Response(status_code=204)

    async def replay() -> AsyncIterator[ev.Event]:
        for event in ending:
            yield event

    return _respond(request, replay(), accumulated)


@router.post(STREAM_PATH, summary="Ask, and stream the answer as Server-Sent Events",
             response_class=EventSourceResponse)
async def post_stream(
    session_id: str,
    body: MessageIn,
    request: Request,
    accumulated: bool = Query(True, description="false drops accumulated_text from text_delta"),
    thinking: bool = Query(True, description="false leaves out thinking_delta events"),
) -> Response:
    b = request.app.state.backend
    slots = request.app.state.stream_slots
    if not slots.try_acquire():  # refused before the run starts: a 503 leaves nothing running
        return _too_many(slots)
    try:
        message_id, floor = await b.start(session_id, body.message, body.options)
    except BaseException:
        slots.release()
        raise
    events = b.tail(session_id, after=floor, message_id=message_id, only_message=True,
                    accumulated=accumulated)
    return _respond(request, events, accumulated, thinking, acquired=True)


@router.get(STREAM_PATH, summary="Stream (or resume) a run as Server-Sent Events",
            response_class=EventSourceResponse,
            responses={204: {"description": "Nothing to stream: no active run, or already complete"}})
async def get_stream(
    session_id: str,
    request: Request,
    message_id: str | None = Query(None, description="Stream this answer (default: the active one)"),
    after: int | None = Query(None, ge=0, description="Resume after this seq (as Last-Event-ID)"),
    accumulated: bool = Query(True, description="false drops accumulated_text from text_delta"),
    thinking: bool = Query(True, description="false leaves out thinking_delta events"),
    last_event_id: str | None = Header(None, alias="Last-Event-ID"),
) -> Response:
    b = request.app.state.backend
    await b.require_conversation(session_id)
    cursor = _cursor(last_event_id, after)
    if message_id is not None:
        msg = await b.require_message(session_id, message_id)
        live = msg.status == "streaming" or await b.active_message(session_id) == message_id
        if not live and not await b.has_events_after(session_id, cursor or 0, message_id):
            return await _ending_or_204(request, b, session_id, cursor, message_id, accumulated)
        target, only = message_id, True
    else:
        active = await b.active_message(session_id)
        if active is None:
            # Nothing streams; a resuming client may still be missing the end of the last answer.
            if cursor is None or not await b.has_events_after(session_id, cursor):
                return await _ending_or_204(request, b, session_id, cursor, None, accumulated)
            target, only = None, False
        else:
            # Without a cursor: the whole active answer. With one: everything after it, in order.
            target, only = active, cursor is None
    events = await _peek(b.tail(session_id, after=cursor or 0, message_id=target, only_message=only,
                                accumulated=accumulated))
    if events is None:
        return Response(status_code=204)
    return _respond(request, events, accumulated, thinking)
