"""HTTP API settings: the shared Settings (token, CORS, upload size) plus API-only knobs.

The API-only values come from ``FINSTREAM_API_*`` environment variables so that the shared
``finstream.settings.Settings`` stays small; tests pass an ``ApiSettings`` directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from finstream.service.access import token_problem
from finstream.service.questions import MAX_QUESTION_CHARS
from finstream.settings import Settings, get_settings


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r}: expected a whole number") from exc


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r}: expected a number") from exc


@dataclass
class ApiSettings:
    """Everything the app factory needs; build one with :func:`api_settings`."""

    token: str | None = None  # FINSTREAM_API_TOKEN; None means "no auth" (loopback only, see server.py)
    cors_origins: list[str] = field(default_factory=list)
    max_json_bytes: int = 256 * 1024  # JSON bodies (a question); more is a 413
    max_upload_bytes: int = 50 * 1024 * 1024  # one uploaded file
    max_request_bytes: int = 201 * 1024 * 1024  # a whole multipart request (several files)
    max_streams: int = 2000  # concurrent SSE + WebSocket streams; more get 503 / close 1013
    sse_retry_ms: int = 2000  # the reconnection delay sent to EventSource in `retry:`
    sse_ping_seconds: float = 15.0  # keep-alive comment interval
    sse_send_timeout: float = 30.0  # a client that reads nothing for this long is dropped
    ingest_workers: int = 2  # uploads parsed in parallel (CPU-bound, off the event loop)
    message_max_chars: int = MAX_QUESTION_CHARS


def api_settings(settings: Settings | None = None) -> ApiSettings:
    """ApiSettings from the shared Settings and the ``FINSTREAM_API_*`` environment."""
    s = settings or get_settings()
    token = s.api_token.get_secret_value() if s.api_token is not None else None
    if token is not None and token_problem(token) is not None:
        # A blank token would silently mean "no auth" (or one nobody can send): refuse to start.
        raise ValueError("FINSTREAM_API_TOKEN is set but blank or padded with whitespace; set a real "
                         "token (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
                         "or unset it")
    upload = s.max_upload_mb * 1024 * 1024
    return ApiSettings(
        token=token,
        cors_origins=[o.strip() for o in s.cors_origins.split(",") if o.strip()],
        max_json_bytes=_env_int("FINSTREAM_API_MAX_JSON_KB", 256) * 1024,
        max_upload_bytes=upload,
        max_request_bytes=_env_int("FINSTREAM_API_MAX_REQUEST_MB", 4 * s.max_upload_mb + 1) * 1024 * 1024,
        max_streams=_env_int("FINSTREAM_API_MAX_STREAMS", 2000),
        sse_retry_ms=_env_int("FINSTREAM_API_SSE_RETRY_MS", 2000),
        sse_ping_seconds=_env_float("FINSTREAM_API_SSE_PING_SECONDS", 15.0),
        sse_send_timeout=_env_float("FINSTREAM_API_SSE_SEND_TIMEOUT", 30.0),
    )
