"""The FastAPI app: ``create_app(runtime_or_manager=..., settings=...)``.

With no manager given, the app opens the store from the settings and runs its own RunManager on
the server's event loop (what ``python -m finstream serve`` does). Tests and embedders pass a
RunManager (created on the loop the server runs) or a runtime object that has a ``manager``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from finstream.api import manage, observe, rest, sse, static, ws
from finstream.api.auth import install_log_redaction
from finstream.api.backend import Backend, Ingest, IngestUpload, RuntimeManager
from finstream.api.config import ApiSettings, api_settings
from finstream.api.errors import install_error_handlers
from finstream.api.guards import GuardMiddleware, StreamSlots
from finstream.settings import Settings, get_settings

log = logging.getLogger("finstream.api")

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _default_manager(settings: Settings) -> tuple[Any, Any]:
    from finstream.providers import make_provider
    from finstream.runs import RunManager
    from finstream.store import open_store
    from finstream.tools import default_toolbox

    store = open_store(settings)
    manager = RunManager(store, lambda: make_provider(settings), default_toolbox(), settings)
    return manager, store


def _backend_for(obj: Any, ingest: Ingest | None, api: ApiSettings) -> Backend:
    """A RunManager (on the server's loop) is used directly; a Runtime (own loop) is bridged."""
    upload: IngestUpload | None = None
    manager: Any
    if hasattr(obj, "runs") and hasattr(obj, "atail"):
        if ingest is None:

            def bridged(cid: str, name: str, data: bytes) -> Awaitable[Any]:
                return obj.acall(obj.aingest_upload(cid, name, data))

            upload = bridged
        manager = RuntimeManager(obj)
    elif hasattr(obj, "tail") and hasattr(obj, "start"):
        manager = obj
    else:
        raise TypeError("create_app: pass a RunManager or a finstream Runtime")
    return Backend(manager, ingest=ingest, ingest_upload=upload, ingest_workers=api.ingest_workers,
                   message_max_chars=api.message_max_chars)


def create_app(
    runtime_or_manager: Any = None,
    settings: Settings | ApiSettings | None = None,
    *,
    ingest: Ingest | None = None,
) -> FastAPI:
    """Build the API app. ``settings`` may be the shared Settings or an ApiSettings."""
    shared = settings if isinstance(settings, Settings) else get_settings()
    api = settings if isinstance(settings, ApiSettings) else api_settings(shared)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = manager = None
        if runtime_or_manager is None:
            manager, own_store = _default_manager(shared)
            await manager.recover()
            manager.start_housekeeping()
            app.state.backend = _backend_for(manager, ingest, api)
        else:
            app.state.backend = _backend_for(runtime_or_manager, ingest, api)
        _bind_metrics(app)
        try:
            yield
        finally:
            app.state.backend.close()
            if own_store is not None and manager is not None:
                await manager.shutdown()
                own_store.close()

    app = FastAPI(
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


def _bind_metrics(app: FastAPI) -> None:
    from finstream.api import metrics

    manager = app.state.backend.manager
    runs = getattr(manager, "runtime", None)
    runs = runs.runs if runs is not None else manager
    slots = app.state.stream_slots
    metrics.bind_gauges(
        lambda: len(getattr(runs, "_runs", {})), lambda: slots.active,
        lambda: bool(getattr(runs, "_listener", None) and runs._listener.healthy),
    )
