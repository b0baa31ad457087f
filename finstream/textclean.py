"""Text as both stores can keep it: no NUL, no lone surrogates.

PostgreSQL refuses NUL in text and JSON, and UTF-8 cannot encode a lone surrogate; SQLite takes
both. Cleaning everything the same way before it is stored means an answer, a filename or a
question reads the same on either database, and one odd byte never costs a whole answer.
"""

from __future__ import annotations

import re

_BAD = re.compile("[\x00\ud800-\udfff]")
# A \u0000 escape in JSON text that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def clean_text(text: str) -> str:
    """``text`` without NUL (dropped) and lone surrogates (U+FFFD)."""
    if text.isascii() and "\x00" not in text:
        return text
    return _BAD.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def clean_json_text(raw: str) -> str:
    """JSON text with its ``\\u0000`` escapes (and any raw NUL) removed."""
    if "\\u0000" not in raw and "\x00" not in raw:
        return raw
    return _JSON_NUL.sub(r"\1", raw).replace("\x00", "")


# "scheme://user:password@host" -> "scheme://[redacted]@host"; also a bare "user:pass@" netloc.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s?#]+@")


def strip_credentials(text: str | None) -> str | None:
    """``text`` with the user and password of any URL in it replaced (``ANTHROPIC_BASE_URL``,
    ``DATABASE_URL`` may carry them); None stays None."""
    if not text or "@" not in text:
        return text
    return _URL_CREDENTIALS.sub(r"\1[redacted]@", text)
