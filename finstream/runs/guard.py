"""What a run does to its events before anyone sees them, and how it ends when storage fails.

``TextGuard`` cleans every event of the characters PostgreSQL rejects (NUL, lone surrogates; the
same on SQLite, so both stores keep the same text) and redacts the server's own secrets (the
Anthropic key, the API and app tokens) when model text repeats them. A secret split over two text
deltas is caught too: a delta that ends with the start of a secret is held back until the next
one shows whether it goes on. Holding text back can add one event (the held text, flushed before
a tool call or the end), so the guard numbers the events it lets through.

``storage_ending`` and ``repair_log`` are the end of a run whose event log could not be written.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from finstream import events as ev
from finstream.store.protocols import RunStore
from finstream.store.records import MessagePatch
from finstream.textclean import clean_text, strip_credentials

log = logging.getLogger("finstream.runs")

REDACTED = "[redacted]"
MIN_SECRET = 8  # shorter values would redact ordinary words; start-up refuses blank tokens
_TEXT_TYPES = ("text_delta", "thinking_delta")


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: _clean_value(v) for k, v in value.items()}
    return value


def secrets_of(settings: Any) -> list[str]:
    out = []
    for name in ("anthropic_api_key", "api_token", "app_token"):
        value = getattr(settings, name, None)
        if value is not None and hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, str) and len(value.strip()) >= MIN_SECRET:
            out.append(value.strip())
    base = getattr(settings, "anthropic_base_url", None)
    if isinstance(base, str) and "@" in base:
        password = urlsplit(base).password
        if password and len(password) >= MIN_SECRET:
            out.append(password)
    return sorted(set(out), key=len, reverse=True)


class _Held:
    """One text stream (answer text or thinking) of one message: the held-back tail."""

    __slots__ = ("tail",)

    def __init__(self) -> None:
        self.tail = ""


class TextGuard:
    """Shared by a RunManager's runs; per-message state is kept in ``_held``."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = [s for s in secrets if s]
        self._held: dict[tuple[str, str], _Held] = {}
        self._offset: dict[str, int] = {}  # message_id -> events the guard added so far

    @classmethod
    def from_settings(cls, settings: Any) -> TextGuard:
        return cls(secrets_of(settings))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def _split(self, text: str) -> tuple[str, str]:
        """(text safe to show now, tail that may be the start of a secret)."""
        keep = 0
        for secret in self.secrets:
            # Only where the secret's first character occurs near the end (a few find() calls).
            first, start = secret[0], max(0, len(text) - len(secret) + 1)
            pos = text.find(first, start)
            while pos != -1:
                if secret.startswith(text[pos:]):
                    keep = max(keep, len(text) - pos)
                    break
                pos = text.find(first, pos + 1)
        return (text[:-keep], text[-keep:]) if keep else (text, "")

    @property
    def passes_text(self) -> bool:
        """No secrets to watch for: a text delta then only needs ``clean_delta`` (the guard never
        holds text back, never adds an event, never renumbers)."""
        return not self.secrets

    @staticmethod
    def clean_delta(event: ev.TextDelta) -> str:
        """A text delta's text, cleaned in place: what ``events`` does to a text delta when there
        are no secrets (``passes_text``), without its list, type checks and renumbering. The run's
        hot path: most events are text deltas."""
        fields = event.__dict__
        text: str = fields["text"]
        if "\x00" in text or not text.isascii():
            fields["text"] = text = clean_text(text)
        return text

    def events(self, event: ev.Event) -> list[ev.Event]:
        """The events to publish in place of ``event`` (itself, cleaned; sometimes a flushed
        text delta before it)."""
        mid = event.message_id
        out: list[ev.Event] = []
        if self.secrets:
            if isinstance(event, (ev.TextDelta, ev.ThinkingDelta)):
                held = self._held.setdefault((mid, event.type), _Held())
                text, held.tail = self._split(self.redact(held.tail + event.text))
                if text != event.text:
                    event.__dict__["text"] = text  # the run owns the event; cheaper than a copy
            else:
                for kind in _TEXT_TYPES:  # a tool call or the end: the held text goes out first
                    tail = self._held.get((mid, kind))
                    if tail is not None and tail.tail:
                        flush = ev.parse_event({"type": kind, "seq": event.seq, "message_id": mid,
                                                "text": tail.tail})
                        tail.tail = ""
                        out.append(self._number(flush))
                        self._offset[mid] = self._offset.get(mid, 0) + 1
                event = self._redact_event(event)
        out.append(self._number(self._clean(event)))
        return out

    def forget(self, message_id: str) -> None:
        """The run ended: drop its state (a held tail shorter than any secret is dropped too)."""
        for kind in _TEXT_TYPES:
            self._held.pop((message_id, kind), None)
        self._offset.pop(message_id, None)

    def _number(self, event: ev.Event) -> ev.Event:
        offset = self._offset.get(event.message_id, 0)
        if offset:
            event.__dict__["seq"] = event.seq + offset
        return event

    def _clean(self, event: ev.Event) -> ev.Event:
        if isinstance(event, (ev.TextDelta, ev.ThinkingDelta)):
            text = event.text
            if not text.isascii() or "\x00" in text:
                event.__dict__["text"] = clean_text(text)
            return event
        if isinstance(event, ev.Error) and "@" in event.message:
            event = event.model_copy(update={"message": strip_credentials(event.message)})
        data = event.model_dump(mode="python")
        cleaned = _clean_value(data)
        return event if cleaned == data else ev.parse_event(cleaned)

    def _redact_event(self, event: ev.Event) -> ev.Event:
        raw = ev.event_to_json(event)
        if not any(json.dumps(s)[1:-1] in raw for s in self.secrets):
            return event
        for secret in self.secrets:
            raw = raw.replace(json.dumps(secret)[1:-1], REDACTED)
        return ev.parse_event(json.loads(raw))


def storage_ending(message_id: str, seq: int, exc: BaseException | None) -> tuple[ev.Error, ev.MessageComplete]:
    """The last two events of an answer whose log could not be written."""
    kind = type(getattr(exc, "orig", None) or exc).__name__ if exc is not None else "error"
    message = (f"The answer could not be saved: the database or the disk failed ({kind}). "
               "It is kept as incomplete once storage is back; ask again or continue it then.")
    return (
        ev.Error(seq=seq, message_id=message_id, code="storage", message=message, retryable=True),
        ev.MessageComplete(seq=seq + 1, message_id=message_id, success=False, stop_reason="error"),
    )


async def repair_log(store: RunStore, conversation_id: str, message_id: str, events: list[ev.Event],
                     patch: MessagePatch, *, max_delay: float = 5.0) -> None:
    """Write ``events`` and ``patch`` (status, release) as soon as the database takes them.

    Retries with backoff while the process lives. A constraint error means the rows are gone
    (the database was recreated empty) or partly there: the events not yet logged are written
    once more, and if that fails too there is nothing left to repair.
    """
    delay = 0.2
    while not store.closed:
        try:
            await store.append_batch(conversation_id, events, message_id=message_id, patch=patch)
            log.info("message %s: event log repaired after a storage failure", message_id)
            return
        except sa.exc.IntegrityError:
            try:
                last = await store.last_seq(conversation_id)
                rest = [e for e in events if e.seq > last]
                await store.append_batch(conversation_id, rest, message_id=message_id, patch=patch)
                return
            except sa.exc.IntegrityError:
                log.warning("message %s: nothing to repair (its conversation is gone)", message_id)
                return
            except Exception:  # still failing: wait as below
                pass
        except Exception:  # the database is still away
            pass
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
