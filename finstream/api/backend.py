"""What the HTTP surfaces need from runs, the store and ingest, in one place.

Transports never own a run: they call ``start``/``stop`` and read ``tail`` from a cursor. The
rules (a question, an upload, an answer that must exist, a delete) are finstream/service's, the
same the Streamlit pages follow; this adapter turns their refusals into :class:`ApiError` values
and keeps every blocking call (database, parsing) off the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from finstream import events as ev
from finstream.api import metrics
from finstream.api.errors import ApiError
from finstream.filings.model import Filing
from finstream.runs import RunManager
from finstream.runs.options import RunOptions
from finstream.service import answers, conversations, questions, uploads
from finstream.service.errors import ServiceError
from finstream.service.uploads import Rejected
from finstream.store import AsyncStore, Conversation, DocumentInfo, Message, NotFoundError
from finstream.store.records import Artifact, Feedback

Ingest = Callable[[str, bytes], Filing]
T = TypeVar("T")

# The HTTP status of each refusal of the shared rules (the code is the error body's "code").
STATUS = {"invalid_request": 422, "too_large": 413, "not_found": 404, "busy": 409, "not_continuable": 409}

__all__ = ["STATUS", "Backend", "Ingest", "Rejected", "artifact_json", "document_json"]


def _parse(filename: str, data: bytes) -> Filing:
    # In a bounded worker process (memory, CPU time): a hostile file cannot take the server down.
    from finstream.filings.sandbox import parse_upload

    return parse_upload(filename, data)


@contextmanager
def refused_as_api_error() -> Iterator[None]:
    """A shared rule's refusal as the API's error: same code, same message, its HTTP status."""
    try:
        yield
    except ServiceError as exc:
        raise ApiError(STATUS.get(exc.code, 422), exc.code, exc.message, **exc.extra) from None


async def _api(call: Awaitable[T]) -> T:
    with refused_as_api_error():
        return await call


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def document_json(doc: DocumentInfo) -> dict[str, Any]:
    return {
        "document_id": doc.id, "filename": doc.filename, "size": doc.size, "sha256": doc.sha256,
        "created_at": _iso(doc.created_at), "error": doc.error,
    }


def artifact_json(art: Artifact) -> dict[str, Any]:
    return {"message_id": art.message_id, "kind": art.kind, "index": art.index, "seq": art.seq,
            "data": art.data}


class Backend:
    """Runs, history and uploads for one app, all on the server's event loop."""

    def __init__(self, manager: RunManager, *, ingest: Ingest | None = None, ingest_workers: int = 2,
                 message_max_chars: int = questions.MAX_QUESTION_CHARS) -> None:
        self.manager = manager
        self.store: AsyncStore = manager.store
        self._ingest = ingest or _parse
        # Parsing is CPU-bound: a small pool of its own so uploads never starve database calls.
        self._pool = ThreadPoolExecutor(max_workers=max(1, ingest_workers), thread_name_prefix="ingest")
        self.message_max_chars = message_max_chars

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- conversations

    async def require_conversation(self, conversation_id: str) -> Conversation:
        return await _api(conversations.require_conversation(self.store, conversation_id))

    async def create_conversation(self, title: str = "") -> Conversation:
        return await self.store.run(self.store.sync.create_conversation, title)

    async def rename_conversation(self, conversation_id: str, title: str) -> Conversation:
        return await _api(conversations.rename(self.store, conversation_id, title))

    async def delete_conversation(self, conversation_id: str) -> bool:
        return await _api(conversations.delete(self.manager, self.store, conversation_id))

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
            info = await _api(uploads.store_upload(self.store, self._parse, conversation_id, filename, data))
            metrics.observe_ingest(time.perf_counter() - started, len(data))
            refused = uploads.rejection(info)
            if refused is not None:
                rejected.append(refused)
            else:
                stored.append(document_json(info))
        return stored, rejected

    async def _parse(self, filename: str, data: bytes) -> Filing:
        """Parse off the loop, in this app's own pool (the sandbox bounds each parse)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._ingest, filename, data)

    # ---------------------------------------------------------------- runs

    @staticmethod
    def parse_options(raw: object) -> RunOptions | None:
        """A client's ``options`` object (model, max_tokens, max_rounds); 422 naming the field."""
        with refused_as_api_error():
            return questions.parse_options(raw)

    async def start(
        self, conversation_id: str, message: str, options: RunOptions | None = None
    ) -> tuple[str, int]:
        """Start a run; returns (message_id, the seq just before its first event, at most).
        ``options``: this run's model and limits (None: the server's settings)."""
        return await _api(answers.start(self.manager, self.store, conversation_id, message, options,
                                        max_chars=self.message_max_chars))

    async def continue_message(self, conversation_id: str, message_id: str,
                               options: RunOptions | None = None) -> int:
        """Continue an unfinished answer; returns the seq before the continuation's first event."""
        _, floor = await _api(answers.continue_answer(self.manager, self.store, conversation_id,
                                                      message_id, options))
        return floor

    async def stop(self, conversation_id: str) -> bool:
        return await _api(answers.stop(self.manager, self.store, conversation_id))

    async def set_feedback(self, conversation_id: str, message_id: str, rating: int | None,
                           comment: str = "") -> Feedback | None:
        return await _api(answers.rate(self.store, conversation_id, message_id, rating, comment))

    async def wait(self, message_id: str) -> dict[str, Any]:
        try:
            return await self.manager.wait(message_id)
        except NotFoundError as exc:
            raise ApiError(404, "not_found", str(exc)) from None

    async def active_message(self, conversation_id: str) -> str | None:
        """The message streaming in this conversation, in this process or another."""
        return await conversations.active_message(self.manager, self.store, conversation_id)

    async def require_message(self, conversation_id: str, message_id: str) -> Message:
        return await _api(conversations.require_answer(self.store, conversation_id, message_id))

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
            replies = [m for m in await self.store.list_messages(conversation_id) if m.role == "assistant"]
            if not replies:
                return []
            message_id = replies[-1].id
        msg = await self.store.get_message(message_id)
        if msg is None or msg.status in ("streaming", "complete"):
            return []
        end = await self.store.last_seq(conversation_id, message_id=message_id)
        page = await self.store.read_events(conversation_id, max(0, end - 3), 10)
        return [e for e in page if e.message_id == message_id and isinstance(e, ev.Error | ev.MessageComplete)]

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
