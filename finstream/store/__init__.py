"""Persistence: SQLite by default, PostgreSQL via DATABASE_URL. See docs/STORE.md."""

from __future__ import annotations

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


def open_store(settings=None, *, schema: str | None = None) -> Store:  # noqa: ANN001
    """The store for ``settings`` (get_settings() by default), migrated and ready."""
    import os

    from finstream.settings import get_settings

    settings = settings or get_settings()
    return Store(settings.db_url, schema=schema or os.environ.get("FINSTREAM_DB_SCHEMA") or None)


__all__ = [
    "Artifact", "AsyncStore", "Conversation", "ConversationBusyError", "Document", "DocumentInfo",
    "Message", "MessagePatch", "NotFoundError", "ShareLink", "Store", "Turn", "make_engine",
    "new_id", "normalise_url", "open_store",
]
