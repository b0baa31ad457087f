"""The FastAPI app: ``create_app(manager=..., settings=...)``.

With no manager given, the app opens the store from the settings and runs its own RunManager on
the server's event loop (what ``python -m finstream serve`` does). Tests and embedders pass a
RunManager created on the loop the server runs.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from finstream.api import manage, observe, rest, sse, static, ws
from finstream.api.auth import install_log_redaction
from finstream.api.backend import Backend, Ingest
from finstream.api.config import ApiSettings, api_settings
from finstream.api.errors import install_error_handlers
from finstream.api.guards import GuardMiddleware, StreamSlots
from finstream.runs import RunManager
from finstream.settings import Settings, get_settings
from finstream.store import Store

log = logging.getLogger("finstream.api")

STATIC_DIR = Path(__file__).resolve().parent / "static"

# FastAPI's native OpenTelemetry (newer FastAPI versions) asks the global providers, on every
# request, whether anyone configured them. finstream's operations are Prometheus (/metrics) and
# JSON logs (api/observe.py); it configures no OpenTelemetry, so the question is never asked.
_NO_NATIVE_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {}
)


def _default_manager(settings: Settings) -> tuple[RunManager, Store]:
    from finstream.providers import make_provider
    from finstream.store import open_store
    from finstream.tools import default_toolbox

    store = open_store(settings)
    manager = RunManager(store, lambda: make_provider(settings), default_toolbox(), settings)
    return manager, store


def _backend_for(manager: RunManager, ingest: Ingest | None, api: ApiSettings) -> Backend:
    if not isinstance(manager, RunManager):
        raise TypeError("create_app: pass a finstream.runs.RunManager (or nothing: the settings' own)")
    return Backend(manager, ingest=ingest, ingest_workers=api.ingest_workers,
                   message_max_chars=api.message_max_chars)


def create_app(
    manager: RunManager | None = None,
    settings: Settings | ApiSettings | None = None,
    *,
    ingest: Ingest | None = None,
) -> FastAPI:
    """Build the API app on ``manager`` (a RunManager on the server's loop; None: its own).
    ``settings`` may be the shared Settings or an ApiSettings."""
    shared = settings if isinstance(settings, Settings) else get_settings()
    api = settings if isinstance(settings, ApiSettings) else api_settings(shared)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own: Store | None = None
        runs = manager
        if runs is None:
            runs, own = _default_manager(shared)
            await runs.recover()
            runs.start_housekeeping()
        backend = _backend_for(runs, ingest, api)
        app.state.backend = backend
        _bind_metrics(app, backend.manager)
        try:
            yield
        finally:
            backend.close()
            if own is not None:
                await runs.shutdown()
                own.close()

    app = FastAPI(
        **_NO_NATIVE_TELEMETRY,
        title="finstream API",
        version="1.0",
        description="Ask about financial filings; answers stream as Server-Sent Events or over "
        "WebSocket. See docs/API.md.",
        lifespan=lifespan,
        # Swagger UI and ReDoc load their scripts from a CDN: no remote content on the API's
        # pages. The schema stays at /openapi.json; docs/API.md documents the endpoints.
        docs_url=None,
        redoc_url=None,
    )
    app.state.api_settings = api
    app.state.stream_slots = StreamSlots(api.max_streams)
    install_error_handlers(app)
    install_log_redaction()
    app.include_router(rest.router)
    app.include_router(sse.router)
    app.include_router(ws.router)
    app.include_router(static.router)
    app.include_router(manage.router)
    app.include_router(observe.router)
    # Added last = outermost: CORS answers preflights (which carry no token) before the guard.
    app.add_middleware(GuardMiddleware, settings=api)
    if api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=api.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            max_age=600,
        )
    # Outermost: every response (401s and 413s too) gets a request id, a log line and a metric.
    app.add_middleware(observe.ObserveMiddleware)
    return app


def _bind_metrics(app: FastAPI, runs: RunManager) -> None:
    from finstream.api import metrics

    slots = app.state.stream_slots
    metrics.bind_gauges(lambda: runs.active_runs, lambda: slots.active,
                        lambda: runs.tailer.listening)
