"""What the store returns: plain frozen dataclasses, safe to pass between threads and processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

# The one artifact type (events, store, page), re-exported: the store returns it.
from finstream.artifacts import Artifact as Artifact
from finstream.artifacts import ArtifactKind as ArtifactKind
from finstream.filings.model import Filing

MessageStatus = Literal["streaming", "complete", "incomplete", "interrupted", "stopped", "error"]


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    active_message_id: str | None = None  # set while a run streams into this conversation


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    role: Literal["user", "assistant"]
    text: str
    status: MessageStatus
    created_at: datetime
    stop_reason: str | None = None
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None  # {"code", "message", "retryable"} of the last error event
    replaces: str | None = None  # a question asked again: the user message it is a new version of


@dataclass(frozen=True)
class DocumentInfo:
    """A document without its bytes (what lists show)."""

    id: str
    conversation_id: str
    filename: str
    size: int
    sha256: str
    created_at: datetime
    error: str | None = None  # why the upload could not be read; None when it parsed

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Document(DocumentInfo):
    """A document with its bytes and parsed form (None when parsing failed)."""

    data: bytes = b""
    filing: Filing | None = None


@dataclass(frozen=True)
class ShareLink:
    token: str
    conversation_id: str
    created_at: datetime
    revoked: bool = False


@dataclass(frozen=True)
class Turn:
    """What begin_turn claimed: the messages a run streams into and its first seq."""

    conversation_id: str
    assistant: Message
    user: Message | None  # None for a continuation
    seq_start: int


@dataclass(frozen=True)
class MessagePatch:
    """Changes to an assistant message, applied in the same transaction as an event batch."""

    append_text: str = ""
    status: MessageStatus | None = None
    stop_reason: str | None = None
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    release: bool = False  # the run ended: free the conversation for the next one


@dataclass(frozen=True)
class Feedback:
    """A reader's verdict on one answer: thumbs up (1) or down (0), with an optional comment."""

    message_id: str
    conversation_id: str
    rating: int
    comment: str
    updated_at: datetime
