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

On the current generation (see models.py) each request asks for adaptive thinking with a display
that returns its text (``summarized``: the notes the model writes between tool calls come back in
thinking blocks, and would otherwise be empty) and the run's ``effort``. Thinking streams out as
``ThinkingPart``; the blocks themselves, signatures included, come back in ``Finish.content``
exactly as received, so the next round (and the store) can send them back unmodified. Prompt
caching: a breakpoint on the system prompt (tools and system, the stable prefix) and the top-level
``cache_control`` whose breakpoint moves forward with the conversation.

Citations: each request sends search_filing's results as ``search_result`` blocks with citations
enabled (providers/citations.py; the stored transcript keeps the tool's JSON, the rewrite is a pure
function of it). A ``citations_delta`` becomes a ``CitationPart`` (the agent turns it into a
``citation`` event) and stays on its text block, which goes back exactly as received.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2

from finstream.providers import models
from finstream.providers.base import (
    Notice,
    Part,
    ProviderError,
    ProviderRequest,
)
from finstream.providers.citations import with_search_results
from finstream.providers.claude_events import _coalesced, _Message
from finstream.settings import Settings
from finstream.textclean import strip_credentials

try:  # an SDK built on plain httpx raises httpx's own classes; catch both families
    import httpx

    _TIMEOUTS: tuple[type[BaseException], ...] = (httpx2.TimeoutException, httpx.TimeoutException)
    _TRANSPORT: tuple[type[BaseException], ...] = (httpx2.TransportError, httpx.TransportError)
except ImportError:  # pragma: no cover
    _TIMEOUTS = (httpx2.TimeoutException,)
    _TRANSPORT = (httpx2.TransportError,)
_STALLED: tuple[type[BaseException], ...] = (*_TIMEOUTS, anthropic.APITimeoutError)
_DROPPED: tuple[type[BaseException], ...] = (*_TRANSPORT, anthropic.APIConnectionError)

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
        model = request.model or self.model
        gone = models.retired_message(model)
        if gone is not None:
            raise ProviderError("model_retired", gone)
        params = self._params(request, model)
        retries = 0
        while True:
            try:
                sdk_stream = await self._client().messages.create(**params)
            except anthropic.APIStatusError as exc:
                wait, why, retryable = self._plan_retry(exc, retries)
                if wait is None:
                    raise self._status_error(exc, why, retryable, model) from None
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
                except _STALLED:
                    raise ProviderError(
                        "stalled",
                        f"Claude's stream stalled: no data for {self.settings.read_timeout:g} s "
                        "(FINSTREAM_READ_TIMEOUT). The partial answer is kept and can be continued.",
                        retryable=True,
                    ) from None
                except _DROPPED as exc:
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
            except ProviderError as err:
                # What the cut message had used is still billed: the agent counts it.
                err.usage, err.model = dict(message.usage), message.model
                raise
            finally:
                await sdk_stream.close()
            yield message.finish()
            return

    def _params(self, request: ProviderRequest, model: str) -> dict[str, Any]:
        """The messages.create arguments. Nothing a current model rejects is ever sent: no
        sampling parameters, no tool_choice (auto is the default), no budget_tokens, no prefill
        (the agent's conversations end with the user's turn)."""
        limit = models.output_limit(model)
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": min(request.max_tokens, limit) if limit else request.max_tokens,
            # search_filing results go out as search_result blocks with citations enabled, so
            # Claude cites the passages it uses (citations_delta); the transcript keeps the JSON.
            "messages": with_search_results(request.messages),
            "stream": True,
            # Automatic caching: the breakpoint follows the end of the growing conversation.
            "cache_control": {"type": "ephemeral"},
        }
        if request.system:
            # A breakpoint of its own: tools + system (the filings list) are the stable prefix
            # that a new conversation over the same filings reads from the cache too.
            params["system"] = [
                {"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}
            ]
        if request.tools:
            params["tools"] = request.tools
        if models.is_adaptive(model):
            params["thinking"] = {"type": "adaptive", "display": "summarized"}
            effort = request.effort or self.settings.effort
            if effort:
                params["output_config"] = {"effort": effort}
        return params

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
        return strip_credentials(_KEYLIKE.sub("[redacted]", text)) or ""

    def _status_error(
        self, exc: anthropic.APIStatusError, why: str, retryable: bool, model: str | None = None
    ) -> ProviderError:
        status = exc.status_code
        code = _STATUS_CODES.get(status) or ("api_error" if status >= 500 else "http_error")
        detail = _api_detail(exc)
        if code == "auth":
            text = f"Claude rejected the API key (HTTP 401{detail}). Check ANTHROPIC_API_KEY."
        elif code == "permission":
            text = f"The API key may not use this model or feature (HTTP 403{detail})."
        elif code == "not_found":
            model = model or self.model
            text = (
                models.retired_message(model)
                or f"{models.unknown_message(model)} (HTTP 404{detail}; FINSTREAM_MODEL or the settings)"
            )
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


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


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
