"""The store: conversations, messages, documents, artifacts, the event log and share links.

Synchronous SQLAlchemy Core on purpose (see docs/STORE.md): one code path for SQLite and
PostgreSQL, usable as is from Streamlit and scripts; async callers go through ``AsyncStore``, which
runs these methods on a small thread pool. Every method is one short transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from finstream import events as ev
from finstream.filings.model import Filing
from finstream.store import schema as t
from finstream.store.engine import make_engine
from finstream.store.migrations import migrate
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

_ARTIFACT_KIND = {"chart_ready": "chart", "table_ready": "table", "metric_ready": "metric"}
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


def new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


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


class Store:
    """All persistence. ``Store(url)`` migrates the database on construction."""

    def __init__(self, url: str, *, schema: str | None = None, migrate_now: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, schema=schema)
        self.dialect = self.engine.dialect.name
        if migrate_now:
            migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self.engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    # ---------------------------------------------------------------- conversations

    def create_conversation(self, title: str = "") -> Conversation:
        now = _now()
        row = {"id": new_id(), "title": title[:300], "created_at": now, "updated_at": now}
        with self._write() as conn:
            conn.execute(t.conversations.insert().values(**row))
        return Conversation(**row)

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.conversations).where(t.conversations.c.id == conversation_id)
            ).mappings().first()
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
                .values(title=title[:300], updated_at=_now())
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
            for table in (t.events, t.messages, t.documents, t.share_links):
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
            return self._insert_message(conn, conversation_id, role, text, status)

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
            row = conn.execute(
                sa.select(t.messages).where(t.messages.c.id == message_id)
            ).mappings().first()
        return _message(row) if row else None

    def list_messages(self, conversation_id: str) -> list[Message]:
        """In conversation order."""
        q = (
            sa.select(t.messages)
            .where(t.messages.c.conversation_id == conversation_id)
            .order_by(t.messages.c.ordinal)
        )
        with self._read() as conn:
            return [_message(r) for r in conn.execute(q).mappings()]

    # ---------------------------------------------------------------- runs

    def begin_turn(
        self,
        conversation_id: str,
        question: str | None,
        *,
        continue_message_id: str | None = None,
        owner: str = "",
    ) -> Turn:
        """Atomically claim the conversation for one run and create (or reopen) its messages.

        A new turn adds the user's question and an empty assistant message; a continuation
        reopens ``continue_message_id`` (which must be incomplete, interrupted, stopped or error).
        Raises ConversationBusyError if another run (in any process) holds the conversation.
        """
        now = _now()
        with self._write() as conn:
            conv = conn.execute(
                sa.select(t.conversations.c.active_message_id).where(
                    t.conversations.c.id == conversation_id
                )
            ).first()
            if conv is None:
                raise NotFoundError(f"conversation {conversation_id}: not found")
            if conv.active_message_id is not None:
                raise ConversationBusyError(conversation_id, conv.active_message_id)
            user: Message | None = None
            if continue_message_id is None:
                if question is None or not question.strip():
                    raise ValueError("question: empty; type a question to ask")
                user = self._insert_message(conn, conversation_id, "user", question, "complete")
                assistant = self._insert_message(
                    conn, conversation_id, "assistant", "", "streaming", owner=owner
                )
            else:
                row = conn.execute(
                    sa.select(t.messages).where(t.messages.c.id == continue_message_id)
                ).mappings().first()
                if row is None or row["conversation_id"] != conversation_id:
                    raise NotFoundError(
                        f"message {continue_message_id}: not found in conversation {conversation_id}"
                    )
                if row["role"] != "assistant" or row["status"] not in CONTINUABLE:
                    raise ValueError(
                        f"message {continue_message_id}: cannot continue a {row['role']} message "
                        f"with status {row['status']!r} (only {', '.join(CONTINUABLE)})"
                    )
                conn.execute(
                    t.messages.update()
                    .where(t.messages.c.id == continue_message_id)
                    .values(status="streaming", stop_reason=None, error=None, run_owner=owner,
                            heartbeat_at=now)
                )
                assistant = _message({**row, "status": "streaming", "stop_reason": None, "error": None})
            # The claim: a conditional update, so two processes racing cannot both win.
            claimed = conn.execute(
                t.conversations.update()
                .where(t.conversations.c.id == conversation_id)
                .where(t.conversations.c.active_message_id.is_(None))
                .values(active_message_id=assistant.id, updated_at=now)
            ).rowcount
            if not claimed:
                raise ConversationBusyError(conversation_id, None)
            seq_start = self._last_seq(conn, conversation_id) + 1
        return Turn(conversation_id, assistant, user, seq_start)

    def append_batch(
        self,
        conversation_id: str,
        events: Sequence[ev.Event],
        *,
        message_id: str | None = None,
        patch: MessagePatch | None = None,
    ) -> None:
        """Append events (seq must be new) and, in the same transaction, their artifacts and the
        message's text/status, so what a crash leaves behind is always consistent."""
        if not events and patch is None:
            return
        now = _now()
        with self._write() as conn:
            if self.dialect == "postgresql" and not (patch and patch.release):
                # Mid-stream batches need not wait for the WAL fsync: an app crash loses nothing
                # committed; only a database-server crash could lose the last fraction of a second.
                # The terminal batch (status, release) stays fully synchronous.
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            if events:
                self._insert_events(conn, conversation_id, events)
                arts = [
                    {
                        "message_id": e.message_id,
                        "conversation_id": conversation_id,
                        "kind": _ARTIFACT_KIND[e.type],
                        "idx": getattr(e, f"{_ARTIFACT_KIND[e.type]}_index"),
                        "seq": e.seq,
                        "data": getattr(e, f"{_ARTIFACT_KIND[e.type]}_data"),
                    }
                    for e in events
                    if e.type in _ARTIFACT_KIND
                ]
                if arts:
                    conn.execute(t.artifacts.insert(), arts)
            target = message_id or (events[0].message_id if events else None)
            if patch is not None and target is not None:
                values: dict[str, Any] = {"heartbeat_at": now}
                if patch.append_text:
                    values["text"] = t.messages.c.text + patch.append_text
                for name in ("status", "stop_reason", "usage", "error"):
                    value = getattr(patch, name)
                    if value is not None:
                        values[name] = value
                conn.execute(t.messages.update().where(t.messages.c.id == target).values(**values))
                if patch.release:
                    self._release(conn, conversation_id, target)

    def _insert_events(self, conn: sa.Connection, conversation_id: str, events: Sequence[ev.Event]) -> None:
        # The hot path, below SQLAlchemy's per-row processing, one statement per batch
        # (executemany would be one statement per row).
        if self.dialect == "postgresql":
            # One statement over a JSON array: psycopg's text-array dumper escapes each element
            # with a regex (slow for JSON payloads); json.dumps is C.
            rows = json.dumps(
                [[e.seq, e.message_id, e.type, _event_payload(e)] for e in events],
                ensure_ascii=False, separators=(",", ":"),
            )
            conn.exec_driver_sql(
                "INSERT INTO events (conversation_id, seq, message_id, type, payload) "
                "SELECT %s, (r->>0)::integer, r->>1, r->>2, r->>3 FROM json_array_elements(%s::json) AS r",
                (conversation_id, rows),
            )
        else:
            # One multi-row INSERT per 400 events: one sqlite3_step (one GIL release) per chunk
            # instead of one per row, which matters when a stream is running on the same GIL.
            for i in range(0, len(events), 400):
                chunk = events[i : i + 400]
                params: list[Any] = []
                for e in chunk:
                    params += (conversation_id, e.seq, e.message_id, e.type, _event_payload(e))
                conn.exec_driver_sql(
                    "INSERT INTO events (conversation_id, seq, message_id, type, payload) VALUES "
                    + ",".join(["(?,?,?,?,?)"] * len(chunk)),
                    tuple(params),
                )

    def heartbeat(self, message_ids: Sequence[str]) -> None:
        """Show that the runs streaming these messages are alive (see mark_streaming_interrupted)."""
        if not message_ids:
            return
        with self._write() as conn:
            conn.execute(
                t.messages.update().where(t.messages.c.id.in_(list(message_ids))).values(heartbeat_at=_now())
            )

    def read_events(
        self,
        conversation_id: str,
        after_seq: int = 0,
        limit: int = 1000,
        *,
        before_seq: int | None = None,
    ) -> list[ev.Event]:
        """Events with after_seq < seq (< before_seq), in order, at most ``limit``.
        ``accumulated_text`` is not stored: it is None here (RunManager.tail fills it)."""
        q = (
            sa.select(t.events.c.payload)
            .where(t.events.c.conversation_id == conversation_id, t.events.c.seq > after_seq)
            .order_by(t.events.c.seq)
            .limit(limit)
        )
        if before_seq is not None:
            q = q.where(t.events.c.seq < before_seq)
        with self._read() as conn:
            return [ev.parse_event(p) for p in conn.execute(q).scalars()]

    def last_seq(self, conversation_id: str, *, message_id: str | None = None) -> int:
        """The highest seq logged in the conversation (of one message if given; 0 if none)."""
        with self._read() as conn:
            return self._last_seq(conn, conversation_id, message_id)

    def message_text_before(self, conversation_id: str, message_id: str, seq: int) -> str:
        """The message's text as the log has it just before ``seq`` (seeds accumulated_text)."""
        q = (
            sa.select(t.events.c.payload)
            .where(
                t.events.c.conversation_id == conversation_id,
                t.events.c.message_id == message_id,
                t.events.c.type == "text_delta",
                t.events.c.seq < seq,
            )
            .order_by(t.events.c.seq)
        )
        with self._read() as conn:
            return "".join(json.loads(p)["text"] for p in conn.execute(q).scalars())

    def mark_streaming_interrupted(
        self,
        *,
        is_dead: Callable[[str], bool] | None = None,
        stale_after: float | None = None,
    ) -> list[str]:
        """Mark messages left "streaming" by dead processes as "interrupted"; return their ids.

        With neither argument every streaming message counts as dead (single process at start-up).
        Otherwise a message counts as dead when ``is_dead(run_owner)`` says so or its heartbeat is
        older than ``stale_after`` seconds. Each gets ``error`` + ``message_complete(interrupted)``
        appended to the log, so tailers end, and its conversation is released.
        """
        cutoff = _now() - timedelta(seconds=stale_after) if stale_after is not None else None
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.messages.c.id, t.messages.c.conversation_id, t.messages.c.run_owner,
                          t.messages.c.heartbeat_at).where(t.messages.c.status == "streaming")
            ).all()
        dead = []
        for row in rows:
            hb = _utc(row.heartbeat_at)
            if is_dead is None and cutoff is None:
                dead.append(row)
            elif (is_dead is not None and is_dead(row.run_owner or "")) or (
                cutoff is not None and (hb is None or hb < cutoff)
            ):
                dead.append(row)
        marked = []
        for row in dead:
            with self._write() as conn:
                still = conn.execute(
                    sa.select(t.messages.c.status, t.messages.c.usage).where(t.messages.c.id == row.id)
                ).first()
                if still is None or still.status != "streaming":
                    continue  # finished (or marked by another process) meanwhile
                seq = self._last_seq(conn, row.conversation_id)
                msg = "The server stopped while this answer was streaming; it can be continued."
                error = ev.Error(seq=seq + 1, message_id=row.id, code="interrupted", message=msg,
                                 retryable=True)
                usage = ev.Usage(**(still.usage or {}))
                done = ev.MessageComplete(seq=seq + 2, message_id=row.id, success=False,
                                          stop_reason="interrupted", usage=usage)
                conn.execute(t.events.insert(), [
                    {"conversation_id": row.conversation_id, "seq": e.seq, "message_id": row.id,
                     "type": e.type, "payload": _event_payload(e)} for e in (error, done)
                ])
                # The row's text is written at the end of a run; the log has all of it.
                deltas = conn.execute(
                    sa.select(t.events.c.payload).where(
                        t.events.c.conversation_id == row.conversation_id,
                        t.events.c.message_id == row.id, t.events.c.type == "text_delta",
                    ).order_by(t.events.c.seq)
                ).scalars()
                text = "".join(json.loads(p)["text"] for p in deltas)
                conn.execute(
                    t.messages.update().where(t.messages.c.id == row.id).values(
                        text=text, status="interrupted", stop_reason="interrupted",
                        error={"code": "interrupted", "message": msg, "retryable": True},
                    )
                )
                self._release(conn, row.conversation_id, row.id)
            marked.append(row.id)
        return marked

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
        if filing is not None:
            parsed = filing.model_copy(update={"document_id": doc_id}).model_dump_json()
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
        cols = [c for c in t.documents.c if c.name not in ("data", "parsed")]
        q = (
            sa.select(*cols)
            .where(t.documents.c.conversation_id == conversation_id)
            .order_by(t.documents.c.created_at, t.documents.c.id)
        )
        with self._read() as conn:
            return [_doc_info(r) for r in conn.execute(q).mappings()]

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
        q = (
            sa.select(t.documents.c.parsed)
            .where(t.documents.c.conversation_id == conversation_id, t.documents.c.parsed.is_not(None))
            .order_by(t.documents.c.created_at, t.documents.c.id)
        )
        with self._read() as conn:
            return [Filing.model_validate_json(p) for p in conn.execute(q).scalars()]

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
                Artifact(r["message_id"], r["kind"], r["idx"], r["seq"], r["data"])
                for r in conn.execute(q).mappings()
            ]

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
        found = conn.execute(
            sa.select(t.conversations.c.id).where(t.conversations.c.id == conversation_id)
        ).first()
        if found is None:
            raise NotFoundError(f"conversation {conversation_id}: not found")

    def _insert_message(
        self, conn: sa.Connection, conversation_id: str, role: str, text: str, status: str,
        *, owner: str | None = None,
    ) -> Message:
        if role not in ("user", "assistant"):
            raise ValueError(f"message role {role!r}: must be user or assistant")
        if status not in t.MESSAGE_STATUSES:
            raise ValueError(f"message status {status!r}: not one of {t.MESSAGE_STATUSES}")
        ordinal = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(t.messages.c.ordinal), 0)).where(
                t.messages.c.conversation_id == conversation_id
            )
        ).scalar_one() + 1
        now = _now()
        row = {
            "id": new_id(), "conversation_id": conversation_id, "ordinal": ordinal, "role": role,
            "text": text, "status": status, "created_at": now, "run_owner": owner,
            "heartbeat_at": now if owner is not None else None,
        }
        conn.execute(t.messages.insert().values(**row))
        return _message(row)

    def _release(self, conn: sa.Connection, conversation_id: str, message_id: str) -> None:
        conn.execute(
            t.conversations.update()
            .where(t.conversations.c.id == conversation_id)
            .where(t.conversations.c.active_message_id == message_id)
            .values(active_message_id=None, updated_at=_now())
        )

    @staticmethod
    def _last_seq(conn: sa.Connection, conversation_id: str, message_id: str | None = None) -> int:
        q = sa.select(sa.func.coalesce(sa.func.max(t.events.c.seq), 0)).where(
            t.events.c.conversation_id == conversation_id
        )
        if message_id is not None:
            q = q.where(t.events.c.message_id == message_id)
        return conn.execute(q).scalar_one()


def _conversation(row: Any) -> Conversation:
    return Conversation(
        row["id"], row["title"], _utc(row["created_at"]), _utc(row["updated_at"]),
        row["active_message_id"],
    )


def _message(row: Any) -> Message:
    return Message(
        id=row["id"], conversation_id=row["conversation_id"], role=row["role"], text=row["text"],
        status=row["status"], created_at=_utc(row["created_at"]), stop_reason=row.get("stop_reason"),
        usage=row.get("usage"), error=row.get("error"),
    )


def _doc_info(row: Any) -> DocumentInfo:
    return DocumentInfo(
        id=row["id"], conversation_id=row["conversation_id"], filename=row["filename"],
        size=row["size"], sha256=row["sha256"], created_at=_utc(row["created_at"]), error=row["error"],
    )
