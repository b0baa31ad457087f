"""An Anthropic-compatible HTTP server on 127.0.0.1 that replays SSE byte scripts.

The real ``anthropic`` SDK talks to it through ``base_url`` (or ``ANTHROPIC_BASE_URL``), so every
streaming quirk is tested against the real client, its real HTTP stack and real sockets. It is a
plain asyncio server in a thread, not a web framework: it must write exactly the scripted bytes,
cut a connection mid-body, or go silent.

In tests::

    with ReplayServer() as server:
        server.enqueue(text_turn("Revenue grew 2%."))
        client = AsyncAnthropic(api_key="k", base_url=server.url)
        ...
        server.requests[0].body["messages"]

As a script (for browser/API tests and demos)::

    python tests/support/anthropic_replay.py --port 8765 --script scenario
    ANTHROPIC_API_KEY=replay ANTHROPIC_BASE_URL=http://127.0.0.1:8765 make run

``--script`` takes a comma-separated list of script names: each is answered once, in order, and
the last one answers every later request (``--script 529,scenario``).

Strict mode (the default; ``strict=False`` or ``--lenient`` turns it off) enforces the current
API's rules before any scripted reply is chosen and rewrites replies as the API would write them:
see replay_strict.py. It also serves ``GET /v1/models``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

# The builders live beside the server; importing them by file location works whether this module
# is run as a script, imported with tests/support on sys.path, or imported as tests.support.*.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay_scripts import (  # noqa: E402
    Chunk,
    Reply,
    dropped_mid_stream,
    error_after_200,
    http_error,
    many_deltas,
    many_tools,
    max_tokens_in_tool,
    no_message_stop,
    no_response,
    pause_turn,
    reasoned_turn,
    refusal,
    sse,
    stalled,
    text_turn,
    tool_turn,
)
from replay_strict import Rejection, StrictRules  # noqa: E402

__all__ = [
    "Chunk",
    "RecordedRequest",
    "Reply",
    "ReplayServer",
    "analyst_scenario",
    "dropped_mid_stream",
    "error_after_200",
    "http_error",
    "many_deltas",
    "many_tools",
    "max_tokens_in_tool",
    "no_message_stop",
    "no_response",
    "pause_turn",
    "refusal",
    "sse",
    "stalled",
    "text_turn",
    "tool_turn",
]

_REASONS = {529: "Overloaded"}
_DRAIN_EVERY = 64 * 1024


@dataclass
class RecordedRequest:
    """A request as the server received it (the body decoded from JSON when it is JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", []) if isinstance(self.body, dict) else []


Responder = Callable[[RecordedRequest], Reply]


class ReplayServer:
    """Serves ``POST /v1/messages`` from a queue of replies, then from ``responder`` if given.

    A request that finds neither gets a 500 (with ``x-should-retry: false``) and is kept in
    ``unexpected``; ``assert_done()`` fails on it and on replies never consumed.
    """

    def __init__(
        self,
        replies: list[Reply] | tuple[Reply, ...] = (),
        *,
        responder: Responder | None = None,
        api_key: str | None = None,
        port: int = 0,
        stall_limit: float = 60.0,
        strict: bool = True,
    ) -> None:
        self._queue: deque[Reply] = deque(replies)
        self.rules: StrictRules | None = StrictRules() if strict else None
        self.rejected: list[tuple[RecordedRequest, Rejection]] = []
        self.responder = responder
        self.api_key = api_key
        self.port = port
        self.stall_limit = stall_limit
        self.requests: list[RecordedRequest] = []
        self.unexpected: list[RecordedRequest] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.announce: str | None = None  # printed with the URL once listening (command line)

    # --- script control ------------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> ReplayServer:
        self._queue.extend(replies)
        return self

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def assert_done(self) -> None:
        """Fail loudly on requests nobody scripted and on scripted replies nobody asked for."""
        problems = []
        if self.unexpected:
            problems.append(
                f"{len(self.unexpected)} unexpected request(s): {[r.path for r in self.unexpected]}"
            )
        if self._queue:
            problems.append(
                f"{len(self._queue)} scripted reply(ies) never requested: {[r.name for r in self._queue]}"
            )
        if problems:
            raise AssertionError("anthropic_replay: " + "; ".join(problems))

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._run, name="anthropic-replay", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError(f"anthropic_replay could not start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (the command-line mode)."""
        try:
            asyncio.run(self._main())
        except KeyboardInterrupt:
            pass

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            tasks.add(task)  # type: ignore[arg-type]
            try:
                await self._connection(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass  # the client went away; nothing to answer
            except asyncio.CancelledError:
                pass  # server shutdown; ending cancelled would make asyncio log a traceback
            finally:
                tasks.discard(task)  # type: ignore[arg-type]
                writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", self.port)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        if self.announce is not None:
            print(f"anthropic_replay listening on {self.url} {self.announce}", flush=True)
        try:
            await self._stop.wait()
        finally:
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- HTTP ----------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # keep-alive: the SDK's connection pool reuses sockets
            request = await _read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            reply = self._choose(request)
            if not await self._write(reply, reader, writer):
                return

    def _choose(self, request: RecordedRequest) -> Reply:
        reply = self._pick(request)
        body = request.body
        if (
            self.rules is not None and reply.status == 200 and reply.chunked
            and isinstance(body, dict) and request.path.split("?")[0] == "/v1/messages"
        ):
            reply = Reply(reply.status, reply.headers, self.rules.rewrite(body, reply.chunks),
                          reply.end, reply.chunked, reply.name)
        return reply

    def _pick(self, request: RecordedRequest) -> Reply:
        path = request.path.split("?")[0]
        if self.rules is not None and request.method == "GET" and path == "/v1/models":
            body = json.dumps(self.rules.models_page()).encode()
            return Reply(200, (("content-type", "application/json"),), (Chunk(body),),
                         chunked=False, name="models")
        if request.method != "POST" or path != "/v1/messages":
            self.unexpected.append(request)
            return http_error(
                404,
                error_type="not_found_error",
                message=f"anthropic_replay: no route {request.method} {request.path}",
            )
        if self.api_key is not None:
            sent = request.headers.get("x-api-key") or request.headers.get(
                "authorization", ""
            ).removeprefix("Bearer ")
            if sent != self.api_key:
                return http_error(401, message="invalid x-api-key")
        if self.rules is not None:
            try:
                self.rules.check(request.body)
            except Rejection as no:
                self.rejected.append((request, no))
                return http_error(no.status, error_type=no.error_type, message=no.message)
        if self._queue:
            return self._queue.popleft()
        if self.responder is not None:
            return self.responder(request)
        self.unexpected.append(request)
        reply = http_error(
            500,
            message=f"anthropic_replay: no scripted reply left for request #{len(self.requests)}",
        )
        return Reply(
            reply.status,
            (*reply.headers, ("x-should-retry", "false")),
            reply.chunks,
            chunked=False,
            name="unexpected",
        )

    async def _write(
        self, reply: Reply, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Write one reply; return whether the connection can serve another request."""
        if reply.end == "silent":
            await self._wait_for_hangup(reader)
            return False
        reason = _REASONS.get(reply.status) or HTTPStatus(reply.status).phrase
        head = [f"HTTP/1.1 {reply.status} {reason}", *(f"{k}: {v}" for k, v in reply.headers)]
        head.append(f"request-id: req_replay_{len(self.requests):04d}")
        if reply.chunked:
            head.append("transfer-encoding: chunked")
        else:
            head.append(f"content-length: {len(reply.body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if not reply.chunked:
            writer.write(reply.body)
            await writer.drain()
            return True
        unsent = 0
        for chunk in reply.chunks:
            if chunk.delay:
                await writer.drain()
                unsent = 0
                await asyncio.sleep(chunk.delay)
            if chunk.data:  # an empty HTTP chunk would end the body
                writer.write(b"%x\r\n%b\r\n" % (len(chunk.data), chunk.data))
                unsent += len(chunk.data)
            if unsent >= _DRAIN_EVERY:
                await writer.drain()
                unsent = 0
        await writer.drain()
        if reply.end == "finish":
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        if reply.end == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:  # linger 0: close sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if reply.end == "stall":
            await self._wait_for_hangup(reader)
        return False  # "close" and "stall": end mid-body, no terminating chunk

    async def _wait_for_hangup(self, reader: asyncio.StreamReader) -> None:
        """Stay silent until the client hangs up (its read timeout) or the server stops."""
        try:
            await asyncio.wait_for(reader.read(1), self.stall_limit)
        except TimeoutError:
            pass


async def _read_request(reader: asyncio.StreamReader) -> RecordedRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    if "content-length" in headers:
        raw = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        raw = b"".join(parts)
    else:
        raw = b""
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    return RecordedRequest(method, path, headers, body)


# --- the deterministic analyst ----------------------------------------------------------------

_SOURCE = {
    "document": "CIK0000320193.json",
    "concept": "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
}
_REVENUE = {"FY2022": 394328000000.0, "FY2023": 383285000000.0, "FY2024": 391035000000.0}
SCENARIO_INTRO = "Apple's revenue dipped in FY2023 and recovered in FY2024. Here is the trend and the latest figure."
SCENARIO_CHART = {
    "title": "Apple revenue by fiscal year",
    "chart_type": "bar",
    "x": list(_REVENUE),
    "series": [{"name": "Revenue", "values": list(_REVENUE.values())}],
    "y_label": "USD",
    "unit": "USD",
    "sources": [{**_SOURCE, "period": p} for p in _REVENUE],
}
SCENARIO_METRIC = {
    "label": "Revenue FY2024",
    "value": _REVENUE["FY2024"],
    "unit": "USD",
    "delta": round((_REVENUE["FY2024"] / _REVENUE["FY2023"] - 1) * 100, 2),
    "delta_unit": "percent",
    "period": "FY2024",
    "sources": [{**_SOURCE, "period": "FY2024"}],
}
# What the current generation writes in thinking blocks: its reasoning, and the short notes
# between tool calls that it used to write as text.
SCENARIO_PLAN = "The user wants the revenue trend. The companyfacts figures cover FY2022 to FY2024; a bar chart shows the dip and recovery best."
SCENARIO_NOTE = "Chart done. Now the headline figure for FY2024 with its change on FY2023."
SCENARIO_CHECK = "Both tools succeeded. FY2024 over FY2023 is +2.0%; FY2023 over FY2022 is -2.8%."
SCENARIO_FINAL = (
    "Revenue was $391.0B in FY2024, up 2.0% from $383.3B in FY2023, after a 2.8% decline from "
    "$394.3B in FY2022 (SEC companyfacts, us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax)."
)


def analyst_scenario(request: RecordedRequest, *, delay: float = 0.0) -> Reply:
    """Answer like a deterministic analyst: text plus create_chart and create_metric calls, then,
    once the tool results come back, a final text. Without those tools offered: text only."""
    messages = request.messages
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last.get("content"), list) else []
    results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
    if last.get("role") == "user" and results:
        failed = [r["tool_use_id"] for r in results if r.get("is_error")]
        note = f" (Some tools reported errors: {', '.join(failed)}.)" if failed else ""
        return reasoned_turn([("thinking", SCENARIO_CHECK), ("text", SCENARIO_FINAL + note)], delay=delay)
    offered = {t.get("name") for t in (request.body or {}).get("tools", []) if isinstance(t, dict)}
    if not {"create_chart", "create_metric"} <= offered:
        return text_turn(SCENARIO_INTRO + " " + SCENARIO_FINAL, delay=delay)
    n = len(messages)
    return reasoned_turn([
        ("thinking", SCENARIO_PLAN),
        ("text", SCENARIO_INTRO),
        ("tool", "create_chart", json.dumps(SCENARIO_CHART), f"toolu_scenario_{n:03d}_chart"),
        ("thinking", SCENARIO_NOTE),
        ("tool", "create_metric", json.dumps(SCENARIO_METRIC), f"toolu_scenario_{n:03d}_metric"),
    ], delay=delay)


def _named_reply(name: str, delay: float) -> Responder:
    fixed: dict[str, Callable[[], Reply]] = {
        "text": lambda: text_turn(SCENARIO_INTRO + " " + SCENARIO_FINAL, delay=delay),
        "tool": lambda: tool_turn(
            [("create_metric", json.dumps(SCENARIO_METRIC))], text=SCENARIO_INTRO, delay=delay
        ),
        "overloaded": error_after_200,
        "dropped": dropped_mid_stream,
        "stall": stalled,
        "no_stop": no_message_stop,
        "max_tokens": max_tokens_in_tool,
        "429": lambda: http_error(429, retry_after=1),
        "529": lambda: http_error(529),
        "refusal": refusal,
        "pause_turn": pause_turn,
        # The current generation's shape, cut mid-answer: reasoning, some text, then the
        # connection drops (the answer is incomplete and can be continued).
        "thinking_cut": lambda: reasoned_turn(
            [("thinking", SCENARIO_PLAN), ("text", "First, the three fiscal years side by side:")],
            delay=delay, end="close",
        ),
    }
    if name == "scenario":
        return lambda request: analyst_scenario(request, delay=delay)
    if name == "cited":  # search_filing, then an answer citing what it found (replay_citations.py)
        from replay_citations import cited_scenario

        return lambda request: cited_scenario(request, delay=delay)
    if name not in fixed:
        raise SystemExit(f"unknown script {name!r}; choose from: scenario, cited, {', '.join(fixed)}")
    return lambda request: fixed[name]()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--script", default="scenario", help="comma-separated script names")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds between SSE frames")
    parser.add_argument("--api-key", default=None, help="reject requests without this key (401)")
    parser.add_argument("--lenient", action="store_true", help="do not enforce the current API's rules")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.script.split(",") if n.strip()] or ["scenario"]
    responders = [_named_reply(n, args.delay) for n in names]
    state = {"i": 0}

    def respond(request: RecordedRequest) -> Reply:
        i = min(state["i"], len(responders) - 1)
        state["i"] += 1
        return responders[i](request)

    server = ReplayServer(responder=respond, api_key=args.api_key, port=args.port,
                          strict=not args.lenient)
    server.announce = f"(script: {args.script})"
    signal.signal(signal.SIGTERM, _interrupt)
    server.serve_forever()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
