"""WebSocket: ``/ws/conversation/{conversation_id}``.

Client frames (JSON text): ``{"type": "user_message", "message": "...", "options"?: {...}}`` asks
(options as in the HTTP API: model, max_tokens, max_rounds);
``{"type": "resume", "after": seq, "message_id"?: "..."}`` streams again after a seq;
``{"type": "stop"}`` stops the answer. Server frames are protocol events as JSON. A frame the server
cannot use gets an ``error`` event (code ``bad_request``, ``seq`` 0: not part of the log) and the
socket stays open. The socket tails runs; closing it never stops one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from finstream import events as ev
from finstream.api.backend import Backend
from finstream.api.errors import ApiError
from finstream.api.framing import event_json

router = APIRouter()

CLOSE_NOT_FOUND = 4404
CLOSE_TRY_AGAIN = 1013


class _Session:
    def __init__(self, ws: WebSocket, backend: Backend, conversation_id: str, accumulated: bool) -> None:
        self.ws = ws
        self.b = backend
        self.conversation_id = conversation_id
        self.accumulated = accumulated
        self.thinking = True  # False: thinking_delta events are not sent (?thinking=false)
        self.tail_task: asyncio.Task | None = None
        self.send_lock = asyncio.Lock()

    async def send_json_text(self, text: str) -> None:
        async with self.send_lock:
            await self.ws.send_text(text)

    async def send_notice(self, code: str | None, message: str, *, message_id: str = "") -> None:
        """A transport-level event (seq 0, not in the log): an error, or a status when code is None."""
        if code is None:
            event: ev.Event = ev.Status(seq=0, message_id=message_id, message=message)
        else:
            event = ev.Error(seq=0, message_id=message_id, code=code, message=message, retryable=False)
        await self.send_json_text(ev.event_to_json(event))

    async def run(self) -> None:
        try:
            while True:
                frame = await self.ws.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                text = frame.get("text")
                if text is None:
                    await self.send_notice("bad_request", "frames must be JSON text, not binary")
                    continue
                await self.handle(text)
        finally:
            await self.cancel_tail()

    async def handle(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError as exc:
            await self.send_notice("bad_request", f"frame: not valid JSON ({exc})")
            return
        except RecursionError:  # "[[[[..." thousands deep: refused like any bad frame
            await self.send_notice("bad_request", "frame: JSON nested too deeply")
            return
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            await self.send_notice("bad_request", 'frame: expected an object with a "type" '
                                   '(user_message, resume or stop)')
            return
        kind = data["type"]
        try:
            if kind == "user_message":
                await self.ask(data)
            elif kind == "resume":
                await self.resume(data)
            elif kind == "stop":
                stopped = await self.b.stop(self.conversation_id)
                if not stopped:
                    await self.send_notice(None, "no answer is streaming here; nothing to stop")
            else:
                await self.send_notice("bad_request", f"frame type {kind[:40]!r}: unknown; use user_message, "
                                       "resume or stop")
        except ApiError as exc:
            await self.send_notice(exc.code, exc.message, message_id=exc.extra.get("message_id") or "")

    async def ask(self, data: dict) -> None:
        message = data.get("message")
        if not isinstance(message, str):
            await self.send_notice("bad_request", 'user_message: "message" must be a string')
            return
        options = self.b.parse_options(data.get("options"))
        message_id, floor = await self.b.start(self.conversation_id, message, options)
        await self.follow(after=floor, message_id=message_id, only=True)

    async def resume(self, data: dict) -> None:
        after = data.get("after", 0)
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            await self.send_notice("bad_request", 'resume: "after" must be a seq (a whole number >= 0)')
            return
        message_id = data.get("message_id")
        if message_id is not None:
            if not isinstance(message_id, str):
                await self.send_notice("bad_request", 'resume: "message_id" must be a string')
                return
            await self.b.require_message(self.conversation_id, message_id)
            await self.follow(after=after, message_id=message_id, only=True)
            return
        active = await self.b.active_message(self.conversation_id)
        if active is None and not await self.b.has_events_after(self.conversation_id, after):
            ending = await self.b.missed_ending(self.conversation_id, after)
            for event in ending:  # it saw events a crashed server never logged: how it ended
                await self.send_json_text(ev.event_to_json(event, accumulated=self.accumulated))
            if not ending:
                await self.send_notice(None, "nothing to stream: no answer is running and the log "
                                       f"has nothing after seq {after}")
            return
        await self.follow(after=after, message_id=active, only=False)

    async def follow(self, *, after: int, message_id: str | None, only: bool) -> None:
        await self.cancel_tail()  # one tail per socket: a resume replaces the previous one
        events = self.b.tail(self.conversation_id, after=after, message_id=message_id,
                             only_message=only, accumulated=self.accumulated)
        self.tail_task = asyncio.create_task(self._pump(events))

    async def _pump(self, events: Any) -> None:
        try:
            async for event in events:
                if not self.thinking and isinstance(event, ev.ThinkingDelta):
                    continue  # the client turned reasoning off (?thinking=false)
                await self.send_json_text(event_json(event, accumulated=self.accumulated))
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client left; the run goes on
        finally:
            await events.aclose()

    async def cancel_tail(self) -> None:
        task, self.tail_task = self.tail_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


@router.websocket("/ws/conversation/{conversation_id}")
async def conversation_socket(websocket: WebSocket, conversation_id: str) -> None:
    state = websocket.app.state
    slots = state.stream_slots
    await websocket.accept()
    if not slots.try_acquire():
        await websocket.close(code=CLOSE_TRY_AGAIN, reason="too many open streams; retry later")
        return
    try:
        b = state.backend
        if await b.store.get_conversation(conversation_id) is None:
            notice = ev.Error(seq=0, message_id="", code="not_found",
                              message=f"conversation {conversation_id[:64]}: not found")
            await websocket.send_text(ev.event_to_json(notice))
            await websocket.close(code=CLOSE_NOT_FOUND, reason="conversation not found")
            return
        accumulated = websocket.query_params.get("accumulated", "true").lower() not in ("false", "0", "no")
        session = _Session(websocket, b, conversation_id, accumulated)
        session.thinking = websocket.query_params.get("thinking", "true").lower() not in ("false", "0", "no")
        await session.run()
    except WebSocketDisconnect:
        pass
    finally:
        slots.release()
        if websocket.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()
