"""Persistence: SQLite by default, PostgreSQL via DATABASE_URL. See docs/STORE.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from finstream.store.aio import AsyncStore
from finstream.store.engine import make_engine, normalise_url
from finstream.store.records import (
    Artifact,
    Conversation,
    Document,
    DocumentInfo,
    Message,
    MessagePatch,
    ShareLink,
    Turn,
)
from finstream.store.store import ConversationBusyError, NotFoundError, Store, new_id

if TYPE_CHECKING:
    from finstream.settings import Settings


def open_store(settings: Settings | None = None, *, schema: str | None = None) -> Store:
    """The store for ``settings`` (get_settings() by default), migrated and ready. On
    PostgreSQL, ``schema`` (or env FINSTREAM_DB_SCHEMA) selects a schema, created if missing."""
    import os

    from finstream.settings import get_settings

    settings = settings or get_settings()
    return Store(settings.db_url, schema=schema or os.environ.get("FINSTREAM_DB_SCHEMA") or None)


__all__ = [
    "Artifact", "AsyncStore", "Conversation", "ConversationBusyError", "Document", "DocumentInfo",
    "Message", "MessagePatch", "NotFoundError", "ShareLink", "Store", "Turn", "make_engine",
    "new_id", "normalise_url", "open_store",
]
