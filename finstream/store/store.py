"""The store: conversations, messages, documents, artifacts, the event log and share links.

Synchronous SQLAlchemy Core on purpose (see docs/STORE.md): one code path for SQLite and
PostgreSQL, usable as is from Streamlit and scripts; async callers go through ``AsyncStore``, which
runs these methods on a small thread pool. Every method is one short transaction. The run and
event-log methods are in runlog.py.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from finstream import events as ev
from finstream.filings.model import Filing
from finstream.store import schema as t
from finstream.store.common import (
    CONTINUABLE,
    ConversationBusyError,
    NotFoundError,
    _conversation,
    _doc_info,
    _message,
    _now,
    _utc,
    new_id,
)
from finstream.store.engine import make_engine, write_turn
from finstream.store.migrations import migrate
from finstream.store.records import (
    Artifact,
    Conversation,
    Document,
    DocumentInfo,
    Feedback,
    Message,
    ShareLink,
)
from finstream.store.runlog import RunLogMixin
from finstream.store.transcript import TranscriptMixin
from finstream.textclean import clean_json_text, clean_text

__all__ = ["CONTINUABLE", "ConversationBusyError", "NotFoundError", "Store", "new_id"]

# Statements a stream's set-up runs, built once: SQLAlchemy then skips building the expression and
# its cache key on every call (memoized on the statement object) and finds the compiled form in its
# cache at once. Parameters are bound at execution by name.
_INSERT_CONVERSATION = t.conversations.insert()
_GET_CONVERSATION = sa.select(t.conversations).where(t.conversations.c.id == sa.bindparam("cid"))
_CONVERSATION_EXISTS = sa.select(t.conversations.c.id).where(t.conversations.c.id == sa.bindparam("cid"))
_GET_MESSAGE = sa.select(t.messages).where(t.messages.c.id == sa.bindparam("mid"))
_LIST_MESSAGES = (
    sa.select(t.messages)
    .where(t.messages.c.conversation_id == sa.bindparam("cid"))
    .order_by(t.messages.c.ordinal)
)
_NEXT_ORDINAL = sa.select(sa.func.coalesce(sa.func.max(t.messages.c.ordinal), 0) + 1).where(
    t.messages.c.conversation_id == sa.bindparam("cid")
)
_INSERT_MESSAGE = t.messages.insert()
_LIST_DOCUMENTS = (
    sa.select(*[c for c in t.documents.c if c.name not in ("data", "parsed")])
    .where(t.documents.c.conversation_id == sa.bindparam("cid"))
    .order_by(t.documents.c.created_at, t.documents.c.id)
)
_FILINGS = (
    sa.select(t.documents.c.parsed)
    .where(t.documents.c.conversation_id == sa.bindparam("cid"), t.documents.c.parsed.is_not(None))
    .order_by(t.documents.c.created_at, t.documents.c.id)
)


class Store(RunLogMixin, TranscriptMixin):
    """All persistence. ``Store(url)`` migrates the database on construction."""

    def __init__(self, url: str, *, schema: str | None = None, migrate_now: bool = True) -> None:
        self.url = url
        self.schema = schema  # PostgreSQL schema (also names the log's NOTIFY channel)
        self.engine = make_engine(url, schema=schema)
        self.dialect = self.engine.dialect.name
        self._write_turn = write_turn(self.engine)  # this process's writers take turns
        self._tables_lost = False
        sa.event.listen(self.engine, "handle_error", self._on_error)
        if migrate_now:
            migrate(self.engine)

    def _on_error(self, ctx: sa.engine.ExceptionContext) -> None:
        # A database dropped and recreated empty (or a wiped file) comes back without tables: the
        # next transaction migrates again instead of every request failing until a restart.
        # (Lost connections are SQLAlchemy's: pool_pre_ping and is_disconnect replace them.)
        text = str(ctx.original_exception).lower()
        if "undefinedtable" in type(ctx.original_exception).__name__.lower() or "no such table" in text \
                or ("relation" in text and "does not exist" in text):
            self._tables_lost = True

    def _heal(self) -> None:
        if self._tables_lost:
            self._tables_lost = False
            try:
                migrate(self.engine)
            except Exception:  # still unreachable: the caller's own query reports it
                self._tables_lost = True

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        self._heal()
        with self._write_turn, self.engine.connect().execution_options(sqlite_immediate=True) as conn, \
                conn.begin():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        self._heal()
        with self.engine.connect() as conn:
            yield conn

    # ---------------------------------------------------------------- conversations

    def create_conversation(self, title: str = "") -> Conversation:
        now = _now()
        conv = Conversation(new_id(), clean_text(title)[:300], now, now)
        row = {"id": conv.id, "title": conv.title, "created_at": now, "updated_at": now}
        with self._write() as conn:
            conn.execute(_INSERT_CONVERSATION, row)
        return conv

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        with self._read() as conn:
            row = conn.execute(_GET_CONVERSATION, {"cid": conversation_id}).mappings().first()
        return _conversation(row) if row else None

    def list_conversations(self, *, limit: int = 100, offset: int = 0) -> list[Conversation]:
        """Most recently updated first."""
        q = (
            sa.select(t.conversations)
            .order_by(t.conversations.c.updated_at.desc(), t.conversations.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self._read() as conn:
            return [_conversation(r) for r in conn.execute(q).mappings()]

    def rename_conversation(self, conversation_id: str, title: str) -> Conversation:
        with self._write() as conn:
            done = conn.execute(
                t.conversations.update()
                .where(t.conversations.c.id == conversation_id)
                .values(title=clean_text(title)[:300], updated_at=_now())
            ).rowcount
        if not done:
            raise NotFoundError(f"conversation {conversation_id}: not found")
        return self.get_conversation(conversation_id)  # type: ignore[return-value]

    def delete_conversation(self, conversation_id: str) -> bool:
        """Delete it with its messages, documents, artifacts, events and share links."""
        with self._write() as conn:
            # Explicit, child first: does not depend on the FK cascade being enabled.
            msg_ids = sa.select(t.messages.c.id).where(t.messages.c.conversation_id == conversation_id)
            conn.execute(t.artifacts.delete().where(t.artifacts.c.message_id.in_(msg_ids)))
            conn.execute(t.feedback.delete().where(t.feedback.c.conversation_id == conversation_id))
            for table in (t.events, t.api_messages, t.messages, t.documents, t.share_links):
                conn.execute(table.delete().where(table.c.conversation_id == conversation_id))
            return bool(
                conn.execute(
                    t.conversations.delete().where(t.conversations.c.id == conversation_id)
                ).rowcount
            )

    # ---------------------------------------------------------------- messages

    def add_message(
        self, conversation_id: str, role: str, text: str, *, status: str = "complete"
    ) -> Message:
        """Append a message (used for imports and tests; runs use begin_turn)."""
        with self._write() as conn:
            self._require_conversation(conn, conversation_id)
            return self._insert_message(conn, conversation_id, role, clean_text(text), status)

    def update_message(self, message_id: str, **fields: Any) -> Message:
        """Set any of text, status, stop_reason, usage, error."""
        allowed = {"text", "status", "stop_reason", "usage", "error"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"update_message: unknown field(s) {sorted(unknown)}")
        if "status" in fields and fields["status"] not in t.MESSAGE_STATUSES:
            raise ValueError(f"message status {fields['status']!r}: not one of {t.MESSAGE_STATUSES}")
        with self._write() as conn:
            done = conn.execute(
                t.messages.update().where(t.messages.c.id == message_id).values(**fields)
            ).rowcount
        if not done:
            raise NotFoundError(f"message {message_id}: not found")
        return self.get_message(message_id)  # type: ignore[return-value]

    def get_message(self, message_id: str) -> Message | None:
        with self._read() as conn:
            row = conn.execute(_GET_MESSAGE, {"mid": message_id}).mappings().first()
        return _message(row) if row else None

    def list_messages(self, conversation_id: str) -> list[Message]:
        """In conversation order."""
        with self._read() as conn:
            return [_message(r) for r in conn.execute(_LIST_MESSAGES, {"cid": conversation_id}).mappings()]

    # ---------------------------------------------------------------- documents

    def add_document(
        self,
        conversation_id: str,
        filename: str,
        data: bytes,
        *,
        filing: Filing | None = None,
        error: str | None = None,
    ) -> DocumentInfo:
        """Store an upload: its bytes, and either its parsed Filing or why it could not be read."""
        if (filing is None) == (error is None):
            raise ValueError(f"{filename}: give exactly one of filing or error")
        doc_id = new_id()
        now = _now()
        parsed = None
        filename, error = clean_text(filename), clean_text(error) if error is not None else None
        if filing is not None:
            parsed = clean_json_text(filing.model_copy(update={"document_id": doc_id}).model_dump_json())
        row = {
            "id": doc_id, "conversation_id": conversation_id, "filename": filename[:500],
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "data": data,
            "parsed": parsed, "error": error, "created_at": now,
        }
        with self._write() as conn:
            self._require_conversation(conn, conversation_id)
            conn.execute(t.documents.insert().values(**row))
            conn.execute(
                t.conversations.update().where(t.conversations.c.id == conversation_id).values(updated_at=now)
            )
        return _doc_info(row)

    def list_documents(self, conversation_id: str) -> list[DocumentInfo]:
        with self._read() as conn:
            return [_doc_info(r) for r in conn.execute(_LIST_DOCUMENTS, {"cid": conversation_id}).mappings()]

    def get_document(self, document_id: str) -> Document | None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.documents).where(t.documents.c.id == document_id)
            ).mappings().first()
        if row is None:
            return None
        filing = Filing.model_validate_json(row["parsed"]) if row["parsed"] else None
        return Document(**_doc_info(row).__dict__, data=bytes(row["data"]), filing=filing)

    def delete_document(self, document_id: str) -> bool:
        with self._write() as conn:
            return bool(conn.execute(t.documents.delete().where(t.documents.c.id == document_id)).rowcount)

    def filings(self, conversation_id: str) -> list[Filing]:
        """The conversation's parsed filings (failed uploads skipped), in upload order."""
        with self._read() as conn:
            return [Filing.model_validate_json(p)
                    for p in conn.execute(_FILINGS, {"cid": conversation_id}).scalars()]

    # ---------------------------------------------------------------- artifacts

    def list_artifacts(self, conversation_id: str) -> list[Artifact]:
        """All artifacts of the conversation, in the order they were produced."""
        return self._artifacts(t.artifacts.c.conversation_id == conversation_id)

    def message_artifacts(self, message_id: str) -> list[Artifact]:
        return self._artifacts(t.artifacts.c.message_id == message_id)

    def _artifacts(self, where: sa.ColumnElement[bool]) -> list[Artifact]:
        q = sa.select(t.artifacts).where(where).order_by(t.artifacts.c.seq)
        with self._read() as conn:
            return [
                Artifact(kind=r["kind"], index=r["idx"], data=r["data"], message_id=r["message_id"], seq=r["seq"])
                for r in conn.execute(q).mappings()
            ]

    # ---------------------------------------------------------------- feedback

    def set_feedback(self, message_id: str, rating: int | None, comment: str = "") -> Feedback | None:
        """Record thumbs up (1) or down (0) and a comment on an assistant message; None clears it."""
        with self._write() as conn:
            row = conn.execute(
                sa.select(t.messages.c.conversation_id, t.messages.c.role).where(t.messages.c.id == message_id)
            ).first()
            if row is None or row.role != "assistant":
                raise NotFoundError(f"message {message_id}: no such answer")
            conn.execute(t.feedback.delete().where(t.feedback.c.message_id == message_id))
            if rating is None:
                return None
            if rating not in (0, 1):
                raise ValueError(f"rating {rating!r}: must be 1 (thumbs up) or 0 (thumbs down)")
            item = Feedback(message_id, row.conversation_id, rating, comment[:4000], _now())
            conn.execute(t.feedback.insert().values(**item.__dict__))
        return item

    def list_feedback(self, conversation_id: str) -> dict[str, Feedback]:
        """The conversation's feedback by message id."""
        q = sa.select(t.feedback).where(t.feedback.c.conversation_id == conversation_id)
        with self._read() as conn:
            return {
                r["message_id"]: Feedback(r["message_id"], r["conversation_id"], r["rating"], r["comment"],
                                          _utc(r["updated_at"]))
                for r in conn.execute(q).mappings()
            }

    def message_steps(self, conversation_id: str) -> dict[str, list[ev.Event]]:
        """Each message's tool steps, status notes and reasoning from the event log (for history)."""
        kinds = ("tool_start", "tool_complete", "status", "thinking_delta")
        q = (
            sa.select(t.events.c.message_id, t.events.c.payload)
            .where(t.events.c.conversation_id == conversation_id, t.events.c.type.in_(kinds))
            .order_by(t.events.c.seq)
        )
        out: dict[str, list[ev.Event]] = {}
        with self._read() as conn:
            for message_id, payload in conn.execute(q):
                try:
                    out.setdefault(message_id, []).append(ev.parse_event(payload))
                except ValueError:  # a type this version does not know: skip it
                    continue
        return out

    # ---------------------------------------------------------------- share links

    def create_share_link(self, conversation_id: str) -> ShareLink:
        """A read-only link; the token is 32 random bytes (unguessable)."""
        link = ShareLink(secrets.token_urlsafe(32), conversation_id, _now(), False)
        with self._write() as conn:
            self._require_conversation(conn, conversation_id)
            conn.execute(t.share_links.insert().values(**link.__dict__))
        return link

    def resolve_share_link(self, token: str) -> Conversation | None:
        """The shared conversation, or None when the token is unknown or revoked."""
        q = (
            sa.select(t.conversations)
            .join(t.share_links, t.share_links.c.conversation_id == t.conversations.c.id)
            .where(t.share_links.c.token == token, t.share_links.c.revoked.is_(False))
        )
        with self._read() as conn:
            row = conn.execute(q).mappings().first()
        return _conversation(row) if row else None

    def revoke_share_link(self, token: str) -> bool:
        with self._write() as conn:
            return bool(
                conn.execute(
                    t.share_links.update().where(t.share_links.c.token == token).values(revoked=True)
                ).rowcount
            )

    def list_share_links(self, conversation_id: str) -> list[ShareLink]:
        q = (
            sa.select(t.share_links)
            .where(t.share_links.c.conversation_id == conversation_id)
            .order_by(t.share_links.c.created_at)
        )
        with self._read() as conn:
            return [
                ShareLink(r["token"], r["conversation_id"], _utc(r["created_at"]), bool(r["revoked"]))
                for r in conn.execute(q).mappings()
            ]

    # ---------------------------------------------------------------- helpers

    def _require_conversation(self, conn: sa.Connection, conversation_id: str) -> None:
        found = conn.execute(_CONVERSATION_EXISTS, {"cid": conversation_id}).first()
        if found is None:
            raise NotFoundError(f"conversation {conversation_id}: not found")

    def _insert_message(
        self, conn: sa.Connection, conversation_id: str, role: str, text: str, status: str,
        *, owner: str | None = None, replaces: str | None = None,
    ) -> Message:
        if role not in ("user", "assistant"):
            raise ValueError(f"message role {role!r}: must be user or assistant")
        if status not in t.MESSAGE_STATUSES:
            raise ValueError(f"message status {status!r}: not one of {t.MESSAGE_STATUSES}")
        ordinal = conn.execute(_NEXT_ORDINAL, {"cid": conversation_id}).scalar_one()
        now = _now()
        row = {
            "id": new_id(), "conversation_id": conversation_id, "ordinal": ordinal, "role": role,
            "text": text, "status": status, "created_at": now, "run_owner": owner,
            "heartbeat_at": now if owner is not None else None, "replaces": replaces,
        }
        conn.execute(_INSERT_MESSAGE, row)
        return _message(row)
