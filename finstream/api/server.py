"""``serve()``: run the API on uvicorn; without FINSTREAM_API_TOKEN, only on loopback."""

from __future__ import annotations

import gc
import ipaddress
import logging
import os
import sys

from finstream.api.config import api_settings
from finstream.settings import get_settings

log = logging.getLogger("finstream.api")

GC_YOUNG_THRESHOLD = 10_000  # allocations between young collections (Python's default: 700)


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a hostname other than localhost may resolve anywhere


def gc_tuned() -> bool:
    """Whether ``tune_gc`` applies: yes unless ``FINSTREAM_GC_TUNE`` is 0/false/no/off."""
    return os.environ.get("FINSTREAM_GC_TUNE", "1").strip().lower() not in ("0", "false", "no", "off")


def tune_gc() -> None:
    """The garbage collector for a long-running server, once start-up is done: what is alive now
    (modules, the app, pydantic and SQLAlchemy's machinery) goes into the permanent generation,
    so collections no longer walk it, and young collections run less often (a stream allocates
    many short-lived objects; each young collection also walks the events a run holds until
    they commit). On by default; ``FINSTREAM_GC_TUNE=0`` keeps CPython's defaults.

    Measured beside the defaults (docs/notes/stop-12.md): with a model that streams as fast as the
    CPU allows, the run machinery without a log went from 0.67 to 0.98 of the bare agent loop's
    events/s and the SQLite log from 0.59 to 0.72 (``bench_eventlog.py`` with and without
    ``--cpython-gc``); at a model's pace the server CPU per stream moved by -9% to +8% (noise on
    this machine, ``bench_capacity.py --gc-default``)."""
    if not gc_tuned():
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def serve(host: str = "127.0.0.1", port: int = 8000, *, log_format: str | None = None) -> int:
    """Run until interrupted; returns the process exit code (2: refused to bind).
    ``log_format``: "json" (one JSON object per line; FINSTREAM_LOG_FORMAT) or "text"."""
    settings = get_settings()
    try:
        api = api_settings(settings)
    except ValueError as exc:
        print(f"finstream serve: {exc}", file=sys.stderr)
        return 2
    if api.token is None and not is_loopback(host):
        print(
            f"finstream serve: refusing to listen on {host}: FINSTREAM_API_TOKEN is not set, so "
            "anyone who can reach the port could use the API. Set FINSTREAM_API_TOKEN or bind to "
            "127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    import uvicorn

    from finstream.api.app import create_app

    json_logs = (log_format or os.environ.get("FINSTREAM_LOG_FORMAT", "text")).lower() == "json"
    if json_logs:
        from finstream.api.observe import configure_json_logs

        configure_json_logs()
    app = create_app(settings=settings)
    tune_gc()
    print(f"finstream API on http://{host}:{port}/ (auth: {'bearer token' if api.token else 'none, loopback only'})",
          file=sys.stderr)
    uvicorn.run(
        app,
        host=host,
        port=port,
        ws_max_size=api.max_json_bytes,
        timeout_graceful_shutdown=5,
        log_level="info",
        # JSON mode: our middleware writes the access line (with request and conversation ids).
        access_log=not json_logs,
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
    )
    return 0
