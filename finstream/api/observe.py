"""Operations: a request id and the replica's name on every response, one structured JSON log line
per request (with request and conversation ids), request metrics, ``/metrics`` and ``/readyz``.

Logs never carry secrets: no headers, no bodies, and the ``token`` query parameter is redacted.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finstream.api import metrics
from finstream.api.auth import redact_token
from finstream.runs.owner import instance_name

log = logging.getLogger("finstream.access")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
conversation_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("conversation_id", default="")

_CONVERSATION = re.compile(r"^/(?:api|ws)/conversation/([A-Za-z0-9_-]{1,64})")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_ID_SEGMENT = re.compile(r"/[0-9a-f]{32}(?=/|$)")
_SHARE_SEGMENT = re.compile(r"^/api/share/[^/]+")


def route_label(path: str) -> str:
    """The path with ids replaced, so the metric's label set stays small."""
    path = _ID_SEGMENT.sub("/{id}", path)
    path = _SHARE_SEGMENT.sub("/api/share/{token}", path)
    if path.startswith(("/api/", "/ws/")) or path in ("/", "/healthz", "/readyz", "/metrics"):
        return path[:120]
    return "other"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request/conversation ids, replica."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact_token(record.getMessage()),
            "replica": instance_name(),
        }
        rid, cid = request_id_var.get(), conversation_id_var.get()
        if rid:
            data["request_id"] = rid
        if cid:
            data["conversation_id"] = cid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_json_logs(level: int = logging.INFO) -> None:
    """Send every log record (finstream's and uvicorn's) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True


class ObserveMiddleware:
    """Pure ASGI (streams and WebSockets pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.replica = instance_name()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        rid = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                rid = candidate if _REQUEST_ID.match(candidate) else ""
                break
        rid = rid or uuid.uuid4().hex[:16]
        match = _CONVERSATION.match(path)
        t_rid = request_id_var.set(rid)
        t_cid = conversation_id_var.set(match.group(1) if match else "")
        started = time.perf_counter()
        status = 0
        extra = [(b"x-request-id", rid.encode()), (b"x-finstream-replica", self.replica.encode())]

        async def wrapped_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, wrapped_send)
        finally:
            if scope["type"] == "http":
                route = route_label(path)
                metrics.REQUESTS.labels(scope.get("method", ""), route, str(status or 500)).inc()
                if status >= 400 or status == 0:
                    metrics.ERRORS.labels("http", str(status or 500)).inc()
                if path not in ("/metrics", "/healthz", "/readyz"):
                    query = scope.get("query_string", b"").decode("latin-1")
                    log.info("%s %s %s", scope.get("method"), path, status or 500, extra={"fields": {
                        "method": scope.get("method"), "path": path,
                        "query": redact_token(query)[:300] if query else "",
                        "status": status or 500,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    }})
            request_id_var.reset(t_rid)
            conversation_id_var.reset(t_cid)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


@router.get("/readyz", summary="Readiness: the database answers")
async def readyz(request: Request) -> Any:
    backend = request.app.state.backend
    store = backend.store.sync

    def ping() -> None:
        import sqlalchemy as sa

        with store.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    started = time.perf_counter()
    try:
        await asyncio.wait_for(backend.store.run(ping), timeout=3.0)
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "replica": instance_name(),
             "database": f"unreachable ({type(exc).__name__})"},
            status_code=503, headers={"Retry-After": "2"})
    return {"status": "ready", "replica": instance_name(), "database": store.dialect,
            "database_ms": round((time.perf_counter() - started) * 1000, 1)}
