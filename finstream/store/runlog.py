"""The store's half that runs use: claiming a turn, the event log, heartbeats and recovery.

A mixin of Store (it uses Store's connection helpers); kept apart because it is the hot path and
the part with the cross-process rules (one run per conversation, dead-process detection).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from finstream import events as ev
from finstream.store import schema as t
from finstream.store.common import (
    _ARTIFACT_KIND,
    CONTINUABLE,
    ConversationBusyError,
    NotFoundError,
    _event_payload,
    _message,
    _now,
    _utc,
)
from finstream.store.records import Message, MessagePatch, Turn
from finstream.textclean import clean_text

# More than a run can publish before its events are durable (writer.py: 2 * max_pending).
UNLOGGED_SEQ_BOUND = 10_000


class RunLogMixin:
    def begin_turn(
        self,
        conversation_id: str,
        question: str | None,
        *,
        continue_message_id: str | None = None,
        owner: str = "",
        replaces: str | None = None,
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
                user = self._insert_message(conn, conversation_id, "user", clean_text(question), "complete",
                                            replaces=replaces)
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

    def message_checks(self, message_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Each message's text verification (its last ``verification`` event of scope text), as
        NumberCheck dicts by message id; messages without one are left out."""
        if not message_ids:
            return {}
        q = (
            sa.select(t.events.c.message_id, t.events.c.payload)
            .where(t.events.c.message_id.in_(list(message_ids)), t.events.c.type == "verification")
            .order_by(t.events.c.seq)
        )
        out: dict[str, list[dict[str, Any]]] = {}
        with self._read() as conn:
            for message_id, payload in conn.execute(q):
                data = json.loads(payload)
                if data.get("scope") == "text":
                    out[message_id] = data.get("checks") or []
        return out

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
                # Skip the seqs the dead run may have shown clients without logging them (at most
                # 2 * max_pending of its writer): a resuming client then gets these events, and
                # no seq it saw ever means something else.
                seq = self._last_seq(conn, row.conversation_id) + UNLOGGED_SEQ_BOUND - 1
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
