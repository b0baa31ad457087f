"""What the HTTP surfaces need from runs, the store and ingest, in one place.

Transports never own a run: they call ``start``/``stop`` and read ``tail`` from a cursor. This
adapter maps the store's and run manager's exceptions to :class:`ApiError` values and keeps every
blocking call (database, parsing) off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from finstream import events as ev
from finstream.api import metrics
from finstream.api.errors import ApiError
from finstream.filings.model import Filing, FilingError
from finstream.run_state import RunOptions
from finstream.store import AsyncStore, ConversationBusyError, NotFoundError

log = logging.getLogger("finstream.api")

Ingest = Callable[[str, bytes], Filing]
IngestUpload = Callable[[str, str, bytes], Awaitable[Any]]  # (conversation_id, filename, data) -> DocumentInfo


def _parse(filename: str, data: bytes) -> Filing:
    # In a bounded worker process (memory, CPU time): a hostile file cannot take the server down.
    from finstream.filings.sandbox import parse_upload

    return parse_upload(filename, data)


@dataclass(frozen=True)
class Rejected:
    filename: str
    reason: str


class RuntimeManager:
    """A RunManager living on a Runtime's own loop, used from the server's loop.

    Every call crosses to the runtime's loop (``acall``/``atail``); the store is used directly
    through its thread pool, which works from any loop.
    """

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.store = runtime.astore

    async def start(self, conversation_id: str, question: str, options: RunOptions | None = None) -> str:
        return await self.runtime.acall(self.runtime.runs.start(conversation_id, question, options))

    async def stop(self, conversation_id: str) -> bool:
        return await self.runtime.acall(self.runtime.runs.stop(conversation_id))

    async def continue_message(self, conversation_id: str, message_id: str,
                               options: RunOptions | None = None) -> str:
        return await self.runtime.acall(
            self.runtime.runs.continue_message(conversation_id, message_id, options))

    async def wait(self, message_id: str) -> dict:
        return await self.runtime.acall(self.runtime.runs.wait(message_id))

    def active_message(self, conversation_id: str) -> str | None:
        return self.runtime.runs.active_message(conversation_id)

    def tail(self, conversation_id: str, **kw: Any) -> AsyncIterator[ev.Event]:
        after = kw.pop("after_seq", 0)
        message_id = kw.pop("message_id", None)
        return self.runtime.atail(conversation_id, after, message_id, **kw)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def document_json(doc: Any) -> dict[str, Any]:
    return {
        "document_id": doc.id, "filename": doc.filename, "size": doc.size, "sha256": doc.sha256,
        "created_at": _iso(doc.created_at), "error": doc.error,
    }


def artifact_json(art: Any) -> dict[str, Any]:
    return {"message_id": art.message_id, "kind": art.kind, "index": art.index, "seq": art.seq,
            "data": art.data}


class Backend:
    """Runs, history and uploads for one app, all on the server's event loop."""

    def __init__(self, manager: Any, *, ingest: Ingest | None = None,
                 ingest_upload: IngestUpload | None = None, ingest_workers: int = 2,
                 message_max_chars: int = 100_000) -> None:
        self.manager = manager
        store = manager.store
        self.store: AsyncStore = store if isinstance(store, AsyncStore) else AsyncStore(store)
        self._ingest = ingest or _parse
        self._ingest_upload = ingest_upload or self._parse_and_store
        # Parsing is CPU-bound: a small pool of its own so uploads never starve database calls.
        self._pool = ThreadPoolExecutor(max_workers=max(1, ingest_workers), thread_name_prefix="ingest")
        self.message_max_chars = message_max_chars

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- conversations

    async def require_conversation(self, conversation_id: str) -> Any:
        conv = await self.store.get_conversation(conversation_id)
        if conv is None:
            raise ApiError(404, "not_found", f"conversation {conversation_id}: not found")
        return conv

    async def create_conversation(self, title: str = "") -> Any:
        return await self.store.create_conversation(title)

    async def history(self, conversation_id: str) -> dict[str, Any]:
        conv = await self.require_conversation(conversation_id)
        messages = await self.store.list_messages(conversation_id)
        artifacts = await self.store.list_artifacts(conversation_id)
        documents = await self.store.list_documents(conversation_id)
        feedback = await self.store.list_feedback(conversation_id)
        by_message: dict[str, list[dict[str, Any]]] = {}
        for art in artifacts:
            by_message.setdefault(art.message_id, []).append(artifact_json(art))
        checks = await self.store.message_checks([m.id for m in messages if m.role == "assistant"])
        cited = await self.store.message_citations([m.id for m in messages if m.role == "assistant"])
        return {
            "conversation_id": conv.id,
            "title": conv.title,
            "created_at": _iso(conv.created_at),
            "updated_at": _iso(conv.updated_at),
            "active_message_id": conv.active_message_id,
            "messages": [
                {
                    "message_id": m.id, "role": m.role, "status": m.status, "text": m.text,
                    "stop_reason": m.stop_reason, "usage": m.usage, "error": m.error,
                    "created_at": _iso(m.created_at), "artifacts": by_message.get(m.id, []),
                    "replaces": m.replaces,
                    **({"feedback": {"rating": "up" if feedback[m.id].rating else "down",
                                     "comment": feedback[m.id].comment}} if m.id in feedback else {}),
                    "verification": checks.get(m.id, []),  # the text's numbers, checked
                    "citations": cited.get(m.id, []),  # the passages its text cites (footnotes)
                }
                for m in messages
            ],
            "artifacts": [artifact_json(a) for a in artifacts],
            "documents": [document_json(d) for d in documents],
        }

    # ---------------------------------------------------------------- documents

    async def add_documents(
        self, conversation_id: str, files: list[tuple[str, bytes]]
    ) -> tuple[list[dict[str, Any]], list[Rejected]]:
        """Parse and store each file. A file that cannot be read is kept with its reason (as the
        Streamlit page does) and reported as rejected; it never affects the other documents."""
        await self.require_conversation(conversation_id)
        stored: list[dict[str, Any]] = []
        rejected: list[Rejected] = []
        for filename, data in files:
            started = time.perf_counter()
            try:
                info = await self._ingest_upload(conversation_id, filename, data)
            except NotFoundError as exc:
                raise ApiError(404, "not_found", str(exc)) from None
            metrics.observe_ingest(time.perf_counter() - started, len(data))
            if info.error:
                prefix = f"{filename}: "
                reason = info.error[len(prefix):] if info.error.startswith(prefix) else info.error
                rejected.append(Rejected(filename, reason))
            else:
                stored.append(document_json(info))
        return stored, rejected

    async def _parse_and_store(self, conversation_id: str, filename: str, data: bytes) -> Any:
        """Like Runtime.aingest_upload: parse off the loop, store the filing or why it failed."""
        loop = asyncio.get_running_loop()
        try:
            filing = await loop.run_in_executor(self._pool, self._ingest, filename, data)
        except FilingError as exc:
            return await self.store.add_document(conversation_id, filename, data, error=str(exc))
        except Exception as exc:  # a parser bug must not lose the upload or the conversation
            log.exception("ingest failed for an upload")
            reason = f"{filename}: could not be read ({type(exc).__name__})"
            return await self.store.add_document(conversation_id, filename, data, error=reason)
        return await self.store.add_document(conversation_id, filename, data, filing=filing)

    # ---------------------------------------------------------------- runs

    def check_question(self, message: str) -> str:
        if not isinstance(message, str) or not message.strip():
            raise ApiError(422, "invalid_request", "message: empty; send the question as {\"message\": \"...\"}")
        if len(message) > self.message_max_chars:
            raise ApiError(413, "too_large",
                           f"message: {len(message)} characters, the limit is {self.message_max_chars}")
        return message

    @staticmethod
    def parse_options(raw: Any) -> RunOptions | None:
        """A client's ``options`` object (model, max_tokens, max_rounds); 422 naming the field."""
        if raw is None:
            return None
        try:
            return RunOptions.model_validate(raw)
        except ValidationError as exc:
            parts = []
            for err in exc.errors()[:5]:
                loc = ".".join(str(p) for p in ("options", *err.get("loc", ())))
                parts.append(f"{loc}: {err.get('msg', 'invalid')}")
            raise ApiError(422, "invalid_request", "; ".join(parts)) from None

    async def start(
        self, conversation_id: str, message: str, options: RunOptions | None = None
    ) -> tuple[str, int]:
        """Start a run; returns (message_id, the seq just before its first event, at most).
        ``options``: this run's model and limits (None: the server's settings)."""
        self.check_question(message)
        await self.require_conversation(conversation_id)
        floor = await self.store.last_seq(conversation_id)
        try:
            message_id = await self.manager.start(conversation_id, message, options)
        except ConversationBusyError as exc:
            raise ApiError(409, "busy", str(exc), message_id=exc.message_id) from None
        except NotFoundError as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from None
        return message_id, floor

    async def stop(self, conversation_id: str) -> bool:
        await self.require_conversation(conversation_id)
        return bool(await self.manager.stop(conversation_id))

    async def wait(self, message_id: str) -> dict[str, Any]:
        try:
            return await self.manager.wait(message_id)
        except NotFoundError as exc:
            raise ApiError(404, "not_found", str(exc)) from None

    async def active_message(self, conversation_id: str) -> str | None:
        """The message streaming in this conversation, in this process or another."""
        local = self.manager.active_message(conversation_id)
        if local is not None:
            return local
        conv = await self.store.get_conversation(conversation_id)
        return conv.active_message_id if conv is not None else None

    async def require_message(self, conversation_id: str, message_id: str) -> Any:
        msg = await self.store.get_message(message_id)
        if msg is None or msg.conversation_id != conversation_id or msg.role != "assistant":
            raise ApiError(404, "not_found",
                           f"message {message_id}: no such answer in conversation {conversation_id}")
        return msg

    async def missed_ending(self, conversation_id: str, cursor: int | None,
                            message_id: str | None = None) -> list[ev.Event]:
        """A client's cursor beyond the log's end means it saw events a crashed server never
        logged: it gets the answer's final events (interrupted, error) instead of a 204."""
        if cursor is None:
            return []
        last = await self.store.last_seq(conversation_id)
        if cursor <= last or last == 0:
            return []
        if message_id is None:
            answers = [m for m in await self.store.list_messages(conversation_id) if m.role == "assistant"]
            if not answers:
                return []
            message_id = answers[-1].id
        msg = await self.store.get_message(message_id)
        if msg is None or msg.status in ("streaming", "complete"):
            return []
        end = await self.store.last_seq(conversation_id, message_id=message_id)
        page = await self.store.read_events(conversation_id, max(0, end - 3), 10)
        return [e for e in page if e.message_id == message_id and e.type in ("error", ev.TERMINAL_TYPE)]

    async def has_events_after(self, conversation_id: str, after: int,
                               message_id: str | None = None) -> bool:
        return await self.store.last_seq(conversation_id, message_id=message_id) > after

    async def tail(
        self,
        conversation_id: str,
        *,
        after: int,
        message_id: str | None,
        only_message: bool,
        accumulated: bool,
        follow: bool = True,
    ) -> AsyncIterator[ev.Event]:
        """The run's events after ``after``; ``only_message`` drops other messages' events.
        Only committed events go out, so a client that resumes on another replica (or after a
        restart) finds in the log exactly what it saw."""
        async for event in self.manager.tail(
            conversation_id, after_seq=after, message_id=message_id, follow=follow,
            accumulated=accumulated, durable=True,
        ):
            if only_message and event.message_id != message_id:
                continue
            yield event
