"""ASGI middleware that guards every request before routing: the bearer token and body size.

Pure ASGI (not BaseHTTPMiddleware) so streaming responses and WebSockets pass through untouched.
Public paths: the demo page, its static files and /healthz (they hold no data).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finstream.api.auth import presented_token, token_ok
from finstream.api.config import ApiSettings

_PROTECTED = ("/api/", "/ws/")
# Only the two transports a browser cannot put a header on may carry the token in the URL.
_QUERY_TOKEN_PATHS = re.compile(r"^/(api/conversation/[^/]+/message/stream|ws/conversation/[^/]+)$")


# Before answering 413 the server reads (and drops) up to this much of the rest of the body: closing
# a socket with unread data makes the kernel send a reset, and many clients then never see the 413.
DRAIN_BYTES = 32 * 1024 * 1024


async def _drain(receive: Receive, budget: int) -> None:
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return
        budget -= len(message.get("body", b""))


def _expects_continue(scope: Scope) -> bool:
    return any(n == b"expect" and v.lower() == b"100-continue" for n, v in scope.get("headers", ()))


# Only these take files; every other body is a small JSON value, whatever its Content-Type says
# (a 150 MB body labelled multipart/form-data sent to /message was read whole before its 422).
_UPLOAD_PATHS = re.compile(r"^/api/conversation(/[^/]+/documents)?/?$")


def _limit_for(scope: Scope, settings: ApiSettings) -> int:
    if not _UPLOAD_PATHS.match(scope.get("path", "")):
        return settings.max_json_bytes
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            if value.lower().startswith(b"multipart/"):
                return settings.max_request_bytes
            break
    return settings.max_json_bytes


async def _send_json(
    send: Send, status: int, body: dict, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    raw = json.dumps(body).encode()
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                    *headers],
    })
    await send({"type": "http.response.body", "body": raw})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _hostname(host: str) -> str:
    """The name part of a Host header value ("127.0.0.1:8000" -> "127.0.0.1", "[::1]:80" -> "::1")."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback_name(name: str) -> bool:
    name = name.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761: always loopback
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _origin_of(value: str) -> tuple[str, str] | None:
    """(scheme, "host[:port]") of an Origin header; None for "null" or garbage."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.scheme, parts.netloc.lower()


def host_origin_problem(scope: Scope, settings: ApiSettings) -> str | None:
    """Why this request's Host or Origin is refused (DNS rebinding, cross-site use), or None.

    Without a token the API answers only under a loopback name, so a page on another site that
    rebinds its own name to 127.0.0.1 gets nothing. A browser's Origin (sent on every WebSocket
    and cross-origin fetch) must be the API's own, a loopback one in no-token mode, or one of
    FINSTREAM_CORS_ORIGINS; clients that send no Origin (curl, SDKs) are not browsers' victims.
    """
    host = _header(scope, b"host") or ""
    if settings.token is None and not is_loopback_name(_hostname(host)):
        return (f"Host {host[:80]!r}: without FINSTREAM_API_TOKEN the API answers only under a "
                "loopback name (localhost, 127.0.0.1, [::1])")
    origin = _header(scope, b"origin")
    if origin is None:
        return None
    if origin.strip().rstrip("/") in settings.cors_origins:
        return None
    parsed = _origin_of(origin)
    if parsed is not None:
        if parsed[1] == host.strip().lower():
            return None  # same origin: the demo page itself
        if settings.token is None and is_loopback_name(_hostname(parsed[1])):
            return None
    return (f"Origin {origin[:80]!r}: not allowed (same origin, loopback, or one of "
            "FINSTREAM_CORS_ORIGINS)")


class GuardMiddleware:
    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        problem = host_origin_problem(scope, self.settings)
        if problem is not None:
            await self._refuse(scope, receive, send, problem)
            return
        if path.startswith(_PROTECTED) and self.settings.token is not None:
            conn = HTTPConnection(scope)
            allow_query = bool(_QUERY_TOKEN_PATHS.match(path)) and scope.get("method", "GET") in ("GET", None)
            if not token_ok(self.settings.token, presented_token(conn, allow_query=allow_query)):
                await self._deny(scope, receive, send)
                return
        if scope["type"] == "http":
            limit = _limit_for(scope, self.settings)
            for name, value in scope.get("headers", ()):
                if name == b"content-length":
                    try:
                        declared = int(value)
                    except ValueError:
                        await _send_json(send, 400, {"error": {"code": "bad_request",
                                                               "message": "Content-Length: not a number"}})
                        return
                    if declared > limit:
                        # A client waiting for "100 Continue" has sent nothing yet: answer at once.
                        if not _expects_continue(scope) and declared - limit <= DRAIN_BYTES:
                            await _drain(receive, declared)
                        await _send_json(send, 413, {"error": {
                            "code": "too_large",
                            "message": f"request body: {declared} bytes, the limit is {limit}"}},
                            [(b"connection", b"close")])
                        return
            receive, send = _counting(receive, send, limit)
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, problem: str) -> None:
        if scope["type"] == "websocket":
            # Refused in the handshake (the server answers 403): a cross-site page learns nothing.
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 1008, "reason": "forbidden origin or host"})
            return
        await _send_json(send, 403, {"error": {"code": "forbidden", "message": problem}})

    async def _deny(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # Accept, then close with 1008 (policy violation): a refused handshake would only show
            # the browser a generic failure, a close code says why.
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": 1008, "reason": "unauthorized"})
            return
        await _send_json(send, 401, {"error": {"code": "unauthorized",
                                               "message": "missing or wrong API token (Authorization: Bearer ...)"}},
                         [(b"www-authenticate", b"Bearer")])


def _counting(receive: Receive, send: Send, limit: int) -> tuple[Receive, Send]:
    """Counts a body sent without (or with a lying) Content-Length. Past ``limit`` it answers 413
    itself, tells the app the client left, and drops whatever the app still tries to send (the
    framework would otherwise turn the abort into a generic 400). The app's response gets the
    security headers (one send wrapper for both: every SSE chunk passes through it)."""
    seen = 0
    answered = False

    async def wrapped_receive() -> Message:
        nonlocal seen, answered
        if answered:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                answered = True
                if message.get("more_body"):
                    await _drain(receive, DRAIN_BYTES)
                await _send_json(send, 413, {"error": {
                    "code": "too_large", "message": f"request body: larger than the limit of {limit} bytes"}},
                    [(b"connection", b"close")])
                return {"type": "http.disconnect"}
        return message

    async def wrapped_send(message: Message) -> None:
        if answered:
            return
        if message["type"] == "http.response.start":
            message = _secured(message)
        await send(message)

    return wrapped_receive, wrapped_send


# Every response that sets no policy of its own (JSON, SSE, errors) gets one that lets nothing
# load or run: a response that a browser is tricked into rendering as a page stays inert.
_STRICT = [(b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


def _secured(start: Message) -> Message:
    """A response start with the strict policy headers it does not set itself."""
    headers = list(start.get("headers", ()))
    names = {n.lower() for n, _ in headers}
    headers += [(n, v) for n, v in _STRICT if n not in names]
    return {**start, "headers": headers}


class StreamSlots:
    """Bounds concurrent SSE and WebSocket streams so a flood gets a clear refusal, not an OOM."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0

    def try_acquire(self) -> bool:
        if self.active >= self.limit:
            return False
        self.active += 1
        return True

    def release(self) -> None:
        self.active = max(0, self.active - 1)
