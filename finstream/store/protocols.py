"""The store as async code sees it: small Protocols with explicit, typed methods.

After openai-agents' ``Session`` protocol: each part of the application names the few calls it
makes (a run: conversations, documents, the event log, the transcript; the HTTP API: those and
answers and share links) instead of reaching through an untyped proxy. ``AsyncStore``
(store/aio.py) implements all of them over the sync ``Store``; the conformance suite in
tests/store/ runs against these protocols on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from finstream import events as ev
from finstream.filings.model import Filing
from finstream.store.records import (
    Artifact,
    Conversation,
    DocumentInfo,
    Feedback,
    Message,
    MessagePatch,
    ShareLink,
    Turn,
)
from finstream.store.transcript import ApiMessage


class Conversations(Protocol):
    """Conversations and the messages in them."""

    async def create_conversation(self, title: str = "") -> Conversation: ...
    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...
    async def list_conversations(self, *, limit: int = 100, offset: int = 0) -> list[Conversation]: ...
    async def rename_conversation(self, conversation_id: str, title: str) -> Conversation: ...
    async def delete_conversation(self, conversation_id: str) -> bool: ...
    async def get_message(self, message_id: str) -> Message | None: ...
    async def list_messages(self, conversation_id: str) -> list[Message]: ...


class Documents(Protocol):
    """A conversation's uploads: kept with their parsed filing, or why they could not be read."""

    async def add_document(self, conversation_id: str, filename: str, data: bytes, *,
                           filing: Filing | None = None, error: str | None = None) -> DocumentInfo: ...
    async def list_documents(self, conversation_id: str) -> list[DocumentInfo]: ...
    async def filings(self, conversation_id: str) -> list[Filing]: ...


class Answers(Protocol):
    """What an answer left besides its text: artifacts, number checks, the reader's feedback."""

    async def list_artifacts(self, conversation_id: str) -> list[Artifact]: ...
    async def message_artifacts(self, message_id: str) -> list[Artifact]: ...
    async def message_checks(self, message_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]: ...
    async def message_citations(self, message_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]: ...
    async def set_feedback(self, message_id: str, rating: int | None,
                           comment: str = "") -> Feedback | None: ...
    async def list_feedback(self, conversation_id: str) -> dict[str, Feedback]: ...


class Shares(Protocol):
    """Read-only share links of a conversation."""

    async def create_share_link(self, conversation_id: str) -> ShareLink: ...
    async def resolve_share_link(self, token: str) -> Conversation | None: ...
    async def revoke_share_link(self, token: str) -> bool: ...
    async def list_share_links(self, conversation_id: str) -> list[ShareLink]: ...


class BatchSink(Protocol):
    """Where a run's log writer appends its batches (the store, or a group committer)."""

    async def append_batch(self, conversation_id: str, events: Sequence[ev.Event], *,
                           message_id: str | None = None, patch: MessagePatch | None = None) -> None: ...


class EventLogReader(Protocol):
    """Reading a conversation's event log (what a tailer needs)."""

    async def read_events(self, conversation_id: str, after_seq: int = 0, limit: int = 1000, *,
                          before_seq: int | None = None) -> list[ev.Event]: ...
    async def last_seq(self, conversation_id: str, *, message_id: str | None = None) -> int: ...
    async def message_text_before(self, conversation_id: str, message_id: str, seq: int) -> str: ...


class EventLog(BatchSink, EventLogReader, Protocol):
    """The append-only event log, and the claim a run holds on its conversation."""

    async def begin_turn(self, conversation_id: str, question: str | None, *,
                         continue_message_id: str | None = None, owner: str = "",
                         replaces: str | None = None) -> Turn: ...
    async def heartbeat(self, message_ids: Sequence[str]) -> None: ...
    async def mark_streaming_interrupted(self, *, is_dead: Callable[[str], bool] | None = None,
                                         stale_after: float | None = None) -> list[str]: ...


class Transcript(Protocol):
    """The model-facing transcript: each model response's blocks exactly as received."""

    async def append_api_messages(self, conversation_id: str, message_id: str,
                                  messages: list[dict[str, Any]],
                                  meta: dict[str, Any] | None = None) -> None: ...
    async def api_messages(self, conversation_id: str) -> list[ApiMessage]: ...


class RunStore(Conversations, Documents, Answers, EventLog, Transcript, Protocol):
    """Everything a RunManager calls."""

    @property
    def closed(self) -> bool: ...


class ApiStore(Conversations, Documents, Answers, Shares, EventLog, Protocol):
    """Everything the HTTP API calls."""
