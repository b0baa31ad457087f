"""What the store's modules share: errors, ids, time, row converters and the event JSON."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

import sqlalchemy as sa

from finstream import events as ev
from finstream.store.records import Conversation, DocumentInfo, Message

CONTINUABLE = ("incomplete", "interrupted", "stopped", "error")


class NotFoundError(LookupError):
    """A conversation, message or document that does not exist (the message names which)."""


class ConversationBusyError(RuntimeError):
    """A run is already streaming in this conversation."""

    def __init__(self, conversation_id: str, message_id: str | None) -> None:
        super().__init__(
            f"conversation {conversation_id}: an answer is still streaming (message {message_id}); "
            "wait for it to finish or stop it first"
        )
        self.conversation_id = conversation_id
        self.message_id = message_id


class StoreParts:
    """What Store's mixins (runlog.py, transcript.py) use of Store itself, declared for the type
    checker; Store (store.py) defines them."""

    dialect: str

    if TYPE_CHECKING:
        def _write(self) -> AbstractContextManager[sa.Connection]: ...

        def _read(self) -> AbstractContextManager[sa.Connection]: ...

        def _insert_message(
            self, conn: sa.Connection, conversation_id: str, role: str, text: str, status: str,
            *, owner: str | None = None, replaces: str | None = None,
        ) -> Message: ...


def new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


@overload
def _utc(value: datetime) -> datetime: ...
@overload
def _utc(value: None) -> None: ...
def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _event_payload(event: ev.Event) -> str:
    # Same JSON as events.event_to_json(accumulated=False), straight from pydantic-core's
    # serializer (5x faster; this runs for every event of every stream).
    return type(event).__pydantic_serializer__.to_json(event, exclude=_NO_ACCUMULATED).decode()


_NO_ACCUMULATED = {"accumulated_text"}


def _conversation(row: Any) -> Conversation:
    return Conversation(
        row["id"], row["title"], _utc(row["created_at"]), _utc(row["updated_at"]),
        row["active_message_id"],
    )


def _message(row: Any) -> Message:
    return Message(
        id=row["id"], conversation_id=row["conversation_id"], role=row["role"], text=row["text"],
        status=row["status"], created_at=_utc(row["created_at"]), stop_reason=row.get("stop_reason"),
        usage=row.get("usage"), error=row.get("error"), replaces=row.get("replaces"),
    )


def _doc_info(row: Any) -> DocumentInfo:
    return DocumentInfo(
        id=row["id"], conversation_id=row["conversation_id"], filename=row["filename"],
        size=row["size"], sha256=row["sha256"], created_at=_utc(row["created_at"]), error=row["error"],
    )
