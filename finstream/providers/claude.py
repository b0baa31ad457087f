"""Claude through the official SDK: raw stream events in, provider parts out.

The provider only translates. It reads ``messages.create(stream=True)`` raw events (never the
``stream()`` helper's partial-JSON snapshots), dispatches on the ``.type`` string (the SDK may
parse an unknown event into the wrong class), passes tool JSON fragments through unparsed, and
maps every failure to a ``ProviderError`` a user can read.

Retries are ours, not the SDK's (``max_retries=0``): the SDK honours any ``retry-after`` with no
practical cap and cannot retry once streaming began. We retry only while nothing has been yielded,
honour ``retry-after-ms``/``retry-after`` up to ``settings.retry_max_wait``, and say so with a
``Notice`` each time.

A reader task drains the SDK stream while the consumer works; text that piles up meanwhile goes
out merged into one ``TextPart`` (nothing waits: a consumer that keeps up sees every delta alone).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2

from finstream.providers.base import (
    BlockStop,
    Finish,
    Notice,
    Part,
    ProviderError,
    ProviderRequest,
    TextPart,
    ToolInputDelta,
    ToolUseStart,
)
from finstream.settings import Settings
from finstream.textclean import strip_credentials

try:  # an SDK built on plain httpx raises httpx's own classes; catch both families
    import httpx

    _TIMEOUTS: tuple[type[BaseException], ...] = (httpx2.TimeoutException, httpx.TimeoutException)
    _TRANSPORT: tuple[type[BaseException], ...] = (httpx2.TransportError, httpx.TransportError)
except ImportError:  # pragma: no cover
    _TIMEOUTS = (httpx2.TimeoutException,)
    _TRANSPORT = (httpx2.TransportError,)

# Statuses worth retrying before the first byte. A 429 without retry-after is a spend cap.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
# Error types inside a 200 stream that may pass if asked again.
RETRYABLE_STREAM_ERRORS = frozenset(
    {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}
)
BASE_BACKOFF = 0.5  # seconds before the first retry when the server names no wait

_STATUS_CODES = {
    400: "invalid_request",
    401: "auth",
    403: "permission",
    404: "not_found",
    413: "request_too_large",
    429: "rate_limited",
    529: "overloaded",
}
_STREAM_CODES = {
    "overloaded_error": "overloaded",
    "rate_limit_error": "rate_limited",
    "api_error": "api_error",
}
_KEYLIKE = re.compile(r"sk-ant-[A-Za-z0-9_\-]+")


class ClaudeProvider:
    """The ``Provider`` for Anthropic's Messages API (``AsyncAnthropic``, raw stream events)."""

    name = "claude"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.model
        key = settings.anthropic_api_key
        self._key = key.get_secret_value() if key is not None else None
        # One client per event loop: its connection pool belongs to the loop that opened it, and
        # Streamlit runs each write_stream generator on a fresh loop.
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, anthropic.AsyncAnthropic
        ]
        self._clients = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:  # never show the key
        return (
            f"ClaudeProvider(model={self.model!r}, base_url={strip_credentials(self.settings.anthropic_base_url)!r})"
        )

    def _client(self) -> anthropic.AsyncAnthropic:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            read = self.settings.read_timeout
            client = anthropic.AsyncAnthropic(
                api_key=self._key,
                base_url=self.settings.anthropic_base_url,
                max_retries=0,
                # The read timeout is the longest silence between bytes: our stall detector.
                timeout=anthropic.Timeout(read, connect=min(10.0, read)),
            )
            self._clients[loop] = client
        return client

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Part]:
        """Yield parts for one model call; raise ProviderError on failure."""
        if not self._key:
            raise ProviderError("auth", "ANTHROPIC_API_KEY is not set; Claude cannot be called.")
        params: dict[str, Any] = {
            "model": request.model or self.model,
            "max_tokens": request.max_tokens,
            "messages": request.messages,
            "stream": True,
        }
        if request.system:
            params["system"] = request.system
        if request.tools:
            params["tools"] = request.tools
        retries = 0
        while True:
            try:
                sdk_stream = await self._client().messages.create(**params)
            except anthropic.APIStatusError as exc:
                wait, why, retryable = self._plan_retry(exc, retries)
                if wait is None:
                    raise self._status_error(exc, why, retryable) from None
                retries += 1
                yield Notice(self._retry_notice(_describe_status(exc), wait, retries))
                await asyncio.sleep(wait)
                continue
            except anthropic.APIConnectionError as exc:  # includes APITimeoutError
                # A server that accepted the request but stayed silent for the whole read timeout
                # is not retried: each retry would cost another full timeout.
                if retries >= self.settings.max_retries or isinstance(
                    exc, anthropic.APITimeoutError
                ):
                    raise self._connect_error(exc, retries) from None
                retries += 1
                wait = self._backoff(retries)
                yield Notice(
                    self._retry_notice(f"could not reach Claude ({_exc_name(exc)})", wait, retries)
                )
                await asyncio.sleep(wait)
                continue

            message = _Message()
            emitted = False
            try:
                async for part in _coalesced(sdk_stream, message):
                    emitted = True
                    yield part
            except anthropic.APIStatusError as exc:  # an `error` event after HTTP 200
                etype = exc.type or "error"
                if (
                    not emitted
                    and etype in RETRYABLE_STREAM_ERRORS
                    and retries < self.settings.max_retries
                ):
                    retries += 1
                    wait = self._backoff(retries)
                    yield Notice(
                        self._retry_notice(
                            f"Claude reported {etype} before answering", wait, retries
                        )
                    )
                    await asyncio.sleep(wait)
                    continue
                raise self._stream_error(exc) from None
            except (*_TIMEOUTS, anthropic.APITimeoutError):
                raise ProviderError(
                    "stalled",
                    f"Claude's stream stalled: no data for {self.settings.read_timeout:g} s "
                    "(FINSTREAM_READ_TIMEOUT). The partial answer is kept and can be continued.",
                    retryable=True,
                ) from None
            except (*_TRANSPORT, anthropic.APIConnectionError) as exc:
                if not emitted and retries < self.settings.max_retries:
                    retries += 1
                    wait = self._backoff(retries)
                    notice = f"the connection to Claude dropped before the answer began ({_exc_name(exc)})"
                    yield Notice(self._retry_notice(notice, wait, retries))
                    await asyncio.sleep(wait)
                    continue
                raise ProviderError(
                    "connection_lost",
                    f"The connection to Claude was lost mid-answer ({self._safe(_exc_name(exc))}). "
                    "The partial answer is kept and can be continued.",
                    retryable=True,
                ) from None
            except Exception as exc:  # a malformed stream (bad JSON, an event that breaks the SDK)
                raise ProviderError(
                    "bad_stream",
                    f"Claude's stream could not be read ({self._safe(_exc_name(exc))[:300]}). "
                    "The partial answer is kept and can be continued.",
                    retryable=True,
                ) from exc
            finally:
                await sdk_stream.close()
            yield message.finish()
            return

    # --- retry policy --------------------------------------------------------------------------

    def _plan_retry(
        self, exc: anthropic.APIStatusError, retries: int
    ) -> tuple[float | None, str, bool]:
        """(seconds to wait, "", True) to retry now, or (None, why not, worth retrying later)."""
        status = exc.status_code
        headers = exc.response.headers
        if status not in RETRY_STATUSES:
            return None, "", False
        if headers.get("x-should-retry", "").lower() == "false":
            return None, "the API said not to retry", False
        asked = _retry_after(headers)
        if status == 429 and asked is None:
            # A spend-cap 429 carries no retry-after and will not clear by waiting.
            return (
                None,
                "no retry-after was given, so the rate or spend limit will not reset soon",
                False,
            )
        if retries >= self.settings.max_retries:
            return None, f"gave up after {retries} retr{'y' if retries == 1 else 'ies'}", True
        if asked is not None and asked > self.settings.retry_max_wait:
            limit = self.settings.retry_max_wait
            why = f"it asked to wait {asked:g} s, more than the {limit:g} s limit (FINSTREAM_RETRY_MAX_WAIT)"
            return None, why, True
        return (asked if asked is not None else self._backoff(retries + 1)), "", True

    def _backoff(self, retry: int) -> float:
        # Exponential with jitter, so many clients overloaded together do not return together.
        wait = BASE_BACKOFF * 2 ** (retry - 1) * random.uniform(0.75, 1.0)
        return min(wait, self.settings.retry_max_wait)

    def _retry_notice(self, what: str, wait: float, retry: int) -> str:
        return _sentence(
            f"{what}; retrying in {wait:.1f} s (retry {retry} of {self.settings.max_retries})."
        )

    # --- errors a user can read ----------------------------------------------------------------

    def _safe(self, text: str) -> str:
        """Belt and braces: no message leaves with the key (or anything shaped like one) in it."""
        if self._key:
            text = text.replace(self._key, "[redacted]")
        return strip_credentials(_KEYLIKE.sub("[redacted]", text))

    def _status_error(
        self, exc: anthropic.APIStatusError, why: str, retryable: bool
    ) -> ProviderError:
        status = exc.status_code
        code = _STATUS_CODES.get(status) or ("api_error" if status >= 500 else "http_error")
        detail = _api_detail(exc)
        if code == "auth":
            text = f"Claude rejected the API key (HTTP 401{detail}). Check ANTHROPIC_API_KEY."
        elif code == "permission":
            text = f"The API key may not use this model or feature (HTTP 403{detail})."
        elif code == "not_found":
            text = f"Claude did not find the model {self.model!r} (HTTP 404{detail}). Check FINSTREAM_MODEL."
        else:
            text = _sentence(_describe_status(exc) + detail) + (f"; {why}." if why else ".")
        return ProviderError(code, self._safe(text + _request_id(exc)), retryable=retryable)

    def _stream_error(self, exc: anthropic.APIStatusError) -> ProviderError:
        etype = exc.type or "error"
        code = _STREAM_CODES.get(etype, "stream_error")
        text = (
            f"Claude's stream was interrupted by {etype}{_api_detail(exc)} after the answer began. "
            "The partial answer is kept and can be continued."
        )
        return ProviderError(
            code, self._safe(text + _request_id(exc)), retryable=etype in RETRYABLE_STREAM_ERRORS
        )

    def _connect_error(self, exc: anthropic.APIConnectionError, retries: int) -> ProviderError:
        where = strip_credentials(self.settings.anthropic_base_url) or "the Anthropic API"
        if isinstance(exc, anthropic.APITimeoutError):
            text = (
                f"Claude did not start answering within {self.settings.read_timeout:g} s at {where}"
            )
            return ProviderError(
                "stalled", self._safe(text + " (FINSTREAM_READ_TIMEOUT)."), retryable=True
            )
        text = f"Could not connect to Claude at {where} ({_exc_name(exc)})"
        return ProviderError(
            "connection_failed",
            self._safe(f"{text}; gave up after {retries} retries."),
            retryable=True,
        )


class _Failed:
    """An exception the reader task hit, delivered in order after the parts before it."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


async def _coalesced(sdk_stream: Any, message: _Message) -> AsyncIterator[Part]:
    """The message's parts, with runs of text that arrived together merged into one TextPart.

    A reader task drains the SDK stream into an inbox while the consumer works. When the consumer
    keeps up, every delta passes alone, at once; when it falls behind (a slow page, a busy loop),
    the text that piled up goes out as one part instead of hundreds, so nothing waits and the
    per-delta cost downstream (events, the event log, the page) stops growing with the backlog.
    Tool fragments and block boundaries pass one by one, in order.
    """
    inbox: deque[Any] = deque()
    wake = asyncio.Event()

    async def read() -> None:
        try:
            async for event in sdk_stream:
                part = message.feed(event)
                if part is not None:
                    inbox.append(part)
                    wake.set()
        except Exception as exc:  # re-raised in the consumer, after the parts before it
            inbox.append(_Failed(exc))
        inbox.append(_END)
        wake.set()

    reader = asyncio.create_task(read())
    try:
        while True:
            await wake.wait()
            wake.clear()
            texts: list[str] = []
            while inbox:
                item = inbox.popleft()
                if type(item) is TextPart:
                    texts.append(item.text)
                    continue
                if texts:
                    yield TextPart(texts[0] if len(texts) == 1 else "".join(texts))
                    texts = []
                if item is _END:
                    return
                if type(item) is _Failed:
                    raise item.exc
                yield item
            if texts:
                yield TextPart(texts[0] if len(texts) == 1 else "".join(texts))
    finally:
        if not reader.done():
            reader.cancel()
            await asyncio.wait([reader])


class _Message:
    """What one streamed message has said so far: usage, stop reason, and its content blocks."""

    def __init__(self) -> None:
        self.stop_reason: str | None = None
        self.stopped = False
        self.usage = {"input_tokens": 0, "output_tokens": 0}
        self.blocks: dict[int, dict[str, Any]] = {}
        self.pieces: dict[int, list[str]] = {}  # text, thinking or raw JSON, per block index

    def feed(self, event: Any) -> Part | None:
        """The part for one raw event (each raw event gives at most one), or None."""
        kind = event.type
        if kind == "content_block_delta":
            delta = event.delta
            dtype = delta.type
            index = event.index
            pieces = self.pieces.get(index)
            if dtype == "text_delta":
                text = delta.text
                if not text:
                    return None
                if pieces is None:  # text for a block that never started: keep it, it is the answer
                    pieces = self.pieces[index] = []
                    self.blocks[index] = {"type": "text"}
                pieces.append(text)
                return TextPart(text)
            if pieces is None:
                return None  # a fragment for a block that never started: nothing to attach it to
            block = self.blocks[index]
            if dtype == "input_json_delta":
                pieces.append(delta.partial_json)
                if block.get("type") == "tool_use":
                    return ToolInputDelta(index, delta.partial_json)
                return None  # a server tool's input: sent back on continuation, never run here
            if dtype == "thinking_delta":
                pieces.append(delta.thinking)
            elif dtype == "signature_delta":
                block["signature"] = delta.signature
            return None  # citations and delta types this code does not know
        if kind == "content_block_start":
            block = event.content_block
            index = event.index
            self.pieces[index] = []
            btype = block.type
            if btype == "text":
                self.blocks[index] = {"type": "text"}
                if block.text:
                    self.pieces[index].append(block.text)
                    return TextPart(block.text)
                return None
            if btype in ("tool_use", "server_tool_use"):
                self.blocks[index] = {"type": btype, "id": block.id, "name": block.name}
                return ToolUseStart(index, block.id, block.name) if btype == "tool_use" else None
            if btype == "thinking":
                self.blocks[index] = {
                    "type": "thinking",
                    "signature": getattr(block, "signature", ""),
                }
                return None
            # Blocks that arrive whole (redacted thinking, server tool results): kept verbatim.
            self.blocks[index] = {"verbatim": block.model_dump(mode="json", exclude_none=True)}
            return None
        if kind == "content_block_stop":
            return BlockStop(event.index)
        if kind == "message_start":
            usage = event.message.usage
            self.usage["input_tokens"] = usage.input_tokens or 0
            self.usage["output_tokens"] = usage.output_tokens or 0
            return None
        if kind == "message_delta":
            self.stop_reason = event.delta.stop_reason
            usage = event.usage
            if usage is not None:  # cumulative counts
                self.usage["output_tokens"] = usage.output_tokens or self.usage["output_tokens"]
                if usage.input_tokens is not None:
                    self.usage["input_tokens"] = usage.input_tokens
            return None
        if kind == "message_stop":
            self.stopped = True
        return None  # ping is dropped by the SDK; unknown event types are ignored here

    def finish(self) -> Finish:
        # No message_stop: the stream ended early without an error. stop_reason None says so.
        return Finish(self.stop_reason if self.stopped else None, dict(self.usage), self.content())

    def content(self) -> list[dict[str, Any]]:
        """The assistant blocks as the API takes them back (pause_turn, continuation)."""
        out = []
        for index in sorted(self.blocks):
            block = self.blocks[index]
            joined = "".join(self.pieces.get(index, ()))
            btype = block.get("type")
            if "verbatim" in block:
                out.append(block["verbatim"])
            elif btype == "text":
                if joined:
                    out.append({"type": "text", "text": joined})
            elif btype == "thinking":
                out.append(
                    {
                        "type": "thinking",
                        "thinking": joined,
                        "signature": block.get("signature", ""),
                    }
                )
            else:
                out.append({**block, "input": _json_object(joined)})
        return out


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _json_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}  # the API requires an object; the assembler reports the broken input itself
    return value if isinstance(value, dict) else {}


def _retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, then retry-after (seconds or date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe_status(exc: anthropic.APIStatusError) -> str:
    status = exc.status_code
    if status == 529 or exc.type == "overloaded_error":
        return f"Claude is overloaded (HTTP {status})"
    if status == 429:
        return "Claude's rate limit was reached (HTTP 429)"
    if status >= 500:
        return f"Claude's API failed (HTTP {status}, {exc.type or 'server error'})"
    return f"Claude rejected the request (HTTP {status}, {exc.type or 'error'})"


def _api_detail(exc: anthropic.APIStatusError) -> str:
    message = exc.api_message
    return f": {message}" if message and message != exc.type else ""


def _request_id(exc: anthropic.APIStatusError) -> str:
    return f" (request id {exc.request_id})" if exc.request_id else ""


def _exc_name(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
