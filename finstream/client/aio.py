"""``AsyncClient``: finstream's HTTP API for async Python programs.

An answer is started on the plain endpoint (``POST …/message?wait=false``), so it runs whether or
not streaming works, then streamed over SSE by its message id. A dropped connection is resumed
with ``Last-Event-ID`` (the server only sends committed events, so the resumed stream joins
exactly, on any replica). When streaming is refused (a proxy that answers the stream with
something other than ``text/event-stream``, a 503, an error status) or keeps failing, the client
falls back to waiting for the answer on the non-streaming endpoint. Either way the result is the
same ``Answer``: the server's record of the message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpx

from finstream import events as ev
from finstream.client.answer import Answer, ClientError
from finstream.client.sse import read_sse

_DROPPED = (httpx.TransportError,)  # cut connections, resets, read timeouts, refused connects
FileArg = str | Path | tuple[str, bytes]


class _StreamRefused(Exception):
    """The stream endpoint answered with something that is not an event stream."""


class AnswerStream:
    """``async for event in stream``: the answer's events as they come; then ``stream.answer``."""

    def __init__(self, client: AsyncClient, conversation_id: str, message_id: str, after: int = 0) -> None:
        self.client = client
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.after = after
        self.answer: Answer | None = None

    def __aiter__(self) -> AsyncGenerator[ev.Event, None]:
        return self._events()

    async def _events(self) -> AsyncGenerator[ev.Event, None]:
        c = self.client
        cursor = self.after
        seen: list[ev.Event] = []
        resumes = 0
        reason: str | None = None
        finished = False
        while not finished:
            try:
                async for event in c._stream_once(self.conversation_id, self.message_id, cursor):
                    if event.seq <= cursor and cursor:
                        continue
                    cursor = event.seq
                    seen.append(event)
                    yield event
                    if isinstance(event, ev.MessageComplete) and event.message_id == self.message_id:
                        finished = True
                        break
                else:
                    finished = True  # the server ended the stream (204 or end of body)
            except _StreamRefused as exc:
                reason = str(exc)
                break
            except _DROPPED as exc:
                resumes += 1
                if resumes > c.max_resumes:
                    reason = f"stream kept failing ({type(exc).__name__}) after {c.max_resumes} resumes"
                    break
                await asyncio.sleep(c.retry_delay * resumes)
        data = await c._wait_answer(self.conversation_id, self.message_id)
        self.answer = Answer.from_json(data, events=seen if reason is None else [],
                                       streamed=reason is None, fallback_reason=reason, resumes=resumes)


class AsyncClient:
    """``async with AsyncClient("http://host:8000", token=...) as fs: answer = await fs.ask(cid, q)``"""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        max_resumes: int = 5,
        retry_delay: float = 0.5,
        stream: bool = True,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = http or httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers,
            timeout=httpx.Timeout(timeout, read=max(timeout, 120.0)),
        )
        self.max_resumes = max_resumes
        self.retry_delay = retry_delay
        self.stream_enabled = stream  # False: never try SSE (the fallback from the start)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # ---------------------------------------------------------------- plumbing

    async def _request(self, method: str, path: str, *, retries: int = 3, **kw: Any) -> httpx.Response:
        """One request; 502/503/504 and dropped connections are retried (bounded)."""
        for attempt in range(retries + 1):
            try:
                response = await self.http.request(method, path, **kw)
            except _DROPPED:
                if attempt == retries:
                    raise
                await asyncio.sleep(self.retry_delay * (attempt + 1))
                continue
            if response.status_code in (502, 503, 504) and attempt < retries:
                await asyncio.sleep(_retry_after(response, self.retry_delay * (attempt + 1)))
                continue
            if response.status_code >= 400:
                raise _error(response)
            return response
        raise AssertionError("unreachable")

    async def _stream_once(self, cid: str, mid: str, cursor: int) -> AsyncIterator[ev.Event]:
        if not self.stream_enabled:
            raise _StreamRefused("streaming turned off")
        headers = {"Accept": "text/event-stream"}
        if cursor:
            headers["Last-Event-ID"] = str(cursor)
        params = {"message_id": mid, "accumulated": "false"}
        async with self.http.stream("GET", f"/api/conversation/{cid}/message/stream", params=params,
                                    headers=headers) as response:
            if response.status_code == 204:
                return
            ctype = response.headers.get("content-type", "")
            if response.status_code != 200 or not ctype.startswith("text/event-stream"):
                raise _StreamRefused(f"stream refused: HTTP {response.status_code} {ctype or 'no type'}")
            async for sse in read_sse(response.aiter_lines()):
                if sse.data:
                    yield ev.parse_event(sse.data)

    async def _wait_answer(self, cid: str, mid: str) -> dict[str, Any]:
        # Long-polls; a cut connection or a 503 from a restarting replica is retried.
        response = await self._request("GET", f"/api/conversation/{cid}/message/{mid}",
                                       params={"wait": "true"}, retries=10)
        return response.json()

    # ---------------------------------------------------------------- conversations

    async def create_conversation(self, title: str = "", files: Iterable[FileArg] = ()) -> str:
        parts = [("files", _file(f)) for f in files]
        if parts:
            r = await self._request("POST", "/api/conversation", files=parts, data={"title": title},
                                    retries=0)
        else:
            r = await self._request("POST", "/api/conversation", json={"title": title}, retries=0)
        return r.json()["conversation_id"]

    async def upload(self, conversation_id: str, files: Iterable[FileArg]) -> list[dict[str, Any]]:
        parts = [("files", _file(f)) for f in files]
        r = await self._request("POST", f"/api/conversation/{conversation_id}/documents", files=parts,
                                retries=0)
        return r.json()["documents"]

    async def conversations(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        r = await self._request("GET", "/api/conversations", params={"limit": limit, "offset": offset})
        return r.json()["conversations"]

    async def history(self, conversation_id: str) -> dict[str, Any]:
        return (await self._request("GET", f"/api/conversation/{conversation_id}")).json()

    async def rename(self, conversation_id: str, title: str) -> dict[str, Any]:
        r = await self._request("PATCH", f"/api/conversation/{conversation_id}", json={"title": title})
        return r.json()

    async def delete(self, conversation_id: str) -> None:
        await self._request("DELETE", f"/api/conversation/{conversation_id}", retries=0)

    async def share(self, conversation_id: str) -> dict[str, Any]:
        return (await self._request("POST", f"/api/conversation/{conversation_id}/share", retries=0)).json()

    async def feedback(self, conversation_id: str, message_id: str, rating: str, comment: str = "") -> dict:
        r = await self._request("PUT", f"/api/conversation/{conversation_id}/message/{message_id}/feedback",
                                json={"rating": rating, "comment": comment})
        return r.json()

    async def stop(self, conversation_id: str) -> bool:
        r = await self._request("POST", f"/api/conversation/{conversation_id}/stop", retries=0)
        return bool(r.json().get("stopped"))

    # ---------------------------------------------------------------- answers

    async def stream(self, conversation_id: str, question: str,
                     options: dict[str, Any] | None = None) -> AnswerStream:
        """Start an answer; iterate the result for its events, then read ``.answer``."""
        body: dict[str, Any] = {"message": question}
        if options:
            body["options"] = options
        # Not retried: a retry after a lost response could ask twice.
        r = await self._request("POST", f"/api/conversation/{conversation_id}/message",
                                params={"wait": "false"}, json=body, retries=0)
        return AnswerStream(self, conversation_id, r.json()["message_id"])

    async def ask(self, conversation_id: str, question: str, options: dict[str, Any] | None = None,
                  on_event: Any = None) -> Answer:
        """The whole answer (streamed when possible; ``on_event(event)`` sees each event)."""
        stream = await self.stream(conversation_id, question, options)
        return await _drain(stream, on_event)

    async def continue_answer(self, conversation_id: str, message_id: str,
                              options: dict[str, Any] | None = None, on_event: Any = None) -> Answer:
        """Continue an incomplete, interrupted, stopped or failed answer into the same message."""
        r = await self._request("POST", f"/api/conversation/{conversation_id}/message/{message_id}/continue",
                                params={"wait": "false"}, json={"options": options} if options else {},
                                retries=0)
        after = int(r.json()["stream_url"].rsplit("after=", 1)[1])
        return await _drain(AnswerStream(self, conversation_id, message_id, after), on_event)

    async def answer(self, conversation_id: str, message_id: str, *, wait: bool = False) -> Answer:
        r = await self._request("GET", f"/api/conversation/{conversation_id}/message/{message_id}",
                                params={"wait": str(wait).lower()})
        return Answer.from_json(r.json(), streamed=False)


async def _drain(stream: AnswerStream, on_event: Any) -> Answer:
    async for event in stream:
        if on_event is not None:
            on_event(event)
    assert stream.answer is not None
    return stream.answer


def _file(f: FileArg) -> tuple[str, bytes]:
    if isinstance(f, tuple):
        return f
    path = Path(f)
    return path.name, path.read_bytes()


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return min(10.0, float(response.headers.get("retry-after", default)))
    except ValueError:
        return default


def _error(response: httpx.Response) -> ClientError:
    try:
        body = response.json()
        err = body.get("error") or {}
        return ClientError(response.status_code, err.get("code", "error"), err.get("message", ""), body)
    except ValueError:
        return ClientError(response.status_code, "http_error", response.text[:200])
