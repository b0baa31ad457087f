"""Bearer-token auth for HTTP and WebSocket, compared in constant time.

Browsers cannot set headers on EventSource or WebSocket, so those two (and only those two) also
accept the token as a ``token`` query parameter. The access log redacts it (see ``redact_token``).
"""

from __future__ import annotations

import logging
import re

from starlette.requests import HTTPConnection

from finstream.service.access import token_matches

_BEARER = re.compile(r"^\s*Bearer\s+(\S+)\s*$", re.IGNORECASE)
_TOKEN_PARAM = re.compile(r"((?:^|[?&])token=)[^&\s]*", re.IGNORECASE)


def presented_token(conn: HTTPConnection, *, allow_query: bool) -> str | None:
    header = conn.headers.get("authorization")
    if header:
        match = _BEARER.match(header)
        return match.group(1) if match else ""
    if allow_query:
        return conn.query_params.get("token")
    return None


def token_ok(expected: str | None, presented: str | None) -> bool:
    """True when no token is configured, or the presented one matches (finstream.service.access)."""
    return expected is None or token_matches(expected, presented)


_AUTH_PATH_QUERY = re.compile(r"(/(?:api|ws)/[^\s?\"]*)\?[^\s\"]*")


def redact_token(text: str) -> str:
    """No query string of an authenticated path (/api/, /ws/) is logged: a token in it may be
    percent-encoded (``%74oken=``) or repeated, so the whole query goes, not just ``token=``."""
    text = _AUTH_PATH_QUERY.sub(r"\1?[query omitted]", text)
    return _TOKEN_PARAM.sub(r"\1[redacted]", text)


class RedactTokenFilter(logging.Filter):
    """Rewrites uvicorn access-log and error records (the path is one of the args)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_token(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact_token(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact_token(record.msg)
        return True


def install_log_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokenFilter) for f in logger.filters):
            logger.addFilter(RedactTokenFilter())
