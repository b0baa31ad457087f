"""The store's half that runs use: claiming a turn, the event log, heartbeats and recovery.

A mixin of Store (it uses Store's connection helpers); kept apart because it is the hot path and
the part with the cross-process rules (one run per conversation, dead-process detection).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from finstream import events as ev
from finstream.store import compact
from finstream.store import schema as t
from finstream.store.common import (
    CONTINUABLE,
    ConversationBusyError,
    NotFoundError,
    StoreParts,
    _event_payload,
    _message,
    _now,
    _utc,
)
from finstream.store.notify import channel_for, notify
from finstream.store.observe import batches_written
from finstream.store.records import Message, MessagePatch, Turn
from finstream.textclean import clean_text

# A stream's set-up statements, built once (as in store.py): begin_turn's read and claim, and the
# log's last seq (every start and every tail's catch-up asks it).
_ACTIVE = sa.select(t.conversations.c.active_message_id).where(t.conversations.c.id == sa.bindparam("cid"))
_CLAIM = (
    t.conversations.update()
    .where(t.conversations.c.id == sa.bindparam("cid"))
    .where(t.conversations.c.active_message_id.is_(None))
    .values(active_message_id=sa.bindparam("mid"), updated_at=sa.bindparam("now"))
)
_LAST = (sa.select(t.events.c.seq, t.events.c.type, t.events.c.payload)
         .where(t.events.c.conversation_id == sa.bindparam("cid"))
         .order_by(t.events.c.seq.desc()).limit(1))
_LAST_OF = (sa.select(t.events.c.seq, t.events.c.type, t.events.c.payload)
            .where(t.events.c.conversation_id == sa.bindparam("cid"), t.events.c.message_id == sa.bindparam("mid"))
            .order_by(t.events.c.seq.desc()).limit(1))

# More than a run can publish before its events are durable (writer.py: 2 * max_pending).
UNLOGGED_SEQ_BOUND = 10_000


class RunLogMixin(StoreParts):
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
            conv = conn.execute(_ACTIVE, {"cid": conversation_id}).first()
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
            claimed = conn.execute(_CLAIM, {"cid": conversation_id, "mid": assistant.id, "now": now}).rowcount
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
        self.append_batches([(conversation_id, events, message_id, patch)])

    def append_batches(
        self, batches: Sequence[tuple[str, Sequence[ev.Event], str | None, MessagePatch | None]],
    ) -> None:
        """Several runs' batches (conversation_id, events, message_id, patch) in one transaction:
        the group commit of store/group_commit.py. Each batch is applied as append_batch would."""
        batches = [b for b in batches if b[1] or b[3] is not None]
        if not batches:
            return
        now = _now()
        started = time.perf_counter()
        # Mid-stream batches need not wait for the WAL fsync (PostgreSQL): an app crash loses
        # nothing committed; only a database-server crash could lose the last fraction of a
        # second. A transaction holding a terminal batch (status, release) stays synchronous.
        async_commit = not any(p and p.release for _, _, _, p in batches)
        with self._write() as conn:
            # Every batch's events in one statement, then each batch's artifacts and message.
            self._insert_many(conn, [(b[0], b[1]) for b in batches], async_commit=async_commit)
            for conversation_id, events, message_id, patch in batches:
                self._append(conn, conversation_id, events, message_id, patch, now)
        batches_written([(b[0], b[1]) for b in batches], time.perf_counter() - started)

    def _append(self, conn: sa.Connection, conversation_id: str, events: Sequence[ev.Event],
                message_id: str | None, patch: MessagePatch | None, now: Any) -> None:
        """A batch's artifacts and message patch (its events are in already: _insert_many)."""
        if events:
            arts = [
                {"message_id": a.message_id, "conversation_id": conversation_id, "kind": a.kind,
                 "idx": a.index, "seq": a.seq, "data": a.data}
                for a in (e.artifact for e in events
                          # (most are text deltas: the exact type check first, it is cheap)
                          if type(e) is not ev.TextDelta and isinstance(e, ev.ArtifactEvent))
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
        if self.dialect == "postgresql" and not events and patch and patch.release:
            # (A batch with events notifies in its INSERT.) Delivered at commit.
            notify(conn, self.notify_channel, conversation_id, 0)

    @property
    def notify_channel(self) -> str:
        """The LISTEN/NOTIFY channel of this store's event log (PostgreSQL)."""
        return channel_for(getattr(self, "schema", None))

    def _insert_events(self, conn: sa.Connection, conversation_id: str, events: Sequence[ev.Event],
                       *, async_commit: bool = False) -> None:
        self._insert_many(conn, [(conversation_id, events)], async_commit=async_commit)

    def _insert_many(self, conn: sa.Connection, batches: Sequence[tuple[str, Sequence[ev.Event]]],
                     *, async_commit: bool = False) -> None:
        """The events of one or more conversations' batches, in one statement (a few on SQLite).

        The hot path, below SQLAlchemy's per-row processing (executemany would be one statement
        per row), shared by every batch of a group commit. Consecutive text deltas go in as one
        row per run (store/compact.py)."""
        fold = getattr(self, "compact_log", True)
        rows = [(cid, *row) for cid, events in batches if events
                for row in compact.log_rows(events, compact=fold)]
        if not rows:
            return
        if self.dialect == "postgresql":
            # One statement over a JSON array: psycopg's text-array dumper escapes each element
            # with a regex (slow for JSON payloads); json.dumps is C. The same round trip sets
            # the commit mode (SET LOCAL) and queues the NOTIFY per conversation that followers on
            # other replicas wait for: every round trip is a GIL hand-off while a stream runs here.
            notes = [f"{cid}:{events[-1].seq}" for cid, events in batches if events]
            conn.exec_driver_sql(
                "WITH cfg AS (SELECT set_config('synchronous_commit', CASE WHEN %s THEN 'off' "
                "ELSE current_setting('synchronous_commit') END, true)), "
                "ins AS (INSERT INTO events (conversation_id, seq, message_id, type, payload) "
                "SELECT r->>0, (r->>1)::integer, r->>2, r->>3, r->>4 FROM json_array_elements(%s::json) AS r) "
                "SELECT pg_notify(%s, n) FROM cfg, json_array_elements_text(%s::json) AS n",
                (async_commit, json.dumps(rows, ensure_ascii=False, separators=(",", ":")),
                 self.notify_channel, json.dumps(notes)),
            )
            return
        # One multi-row INSERT per 400 rows: one sqlite3_step (one GIL release) per chunk
        # instead of one per row, which matters when a stream is running on the same GIL.
        for i in range(0, len(rows), 400):
            chunk = rows[i : i + 400]
            params: list[Any] = []
            for row in chunk:
                params += row
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
        c = t.events.c
        cols = (c.seq, c.message_id, c.type, c.payload)
        q = (
            sa.select(*cols)
            .where(c.conversation_id == conversation_id, c.seq > after_seq)
            .order_by(c.seq)
            .limit(limit)
        )
        if before_seq is not None:
            q = q.where(c.seq < before_seq)
        with self._read() as conn:
            rows: list[tuple[int, str, str, str]] = []
            if after_seq > 0:
                # A run keyed at or before the cursor may hold events after it (compact.py).
                straddler = conn.execute(
                    sa.select(*cols)
                    .where(c.conversation_id == conversation_id, c.seq <= after_seq,
                           c.seq > after_seq - compact.RUN_MAX, c.type == compact.RUN_TYPE)
                    .order_by(c.seq.desc()).limit(1)
                ).tuples().first()
                if straddler is not None:
                    rows.append(straddler)
            rows += conn.execute(q).tuples().all()
        out: list[ev.Event] = []
        for event in compact.expand(rows, after=after_seq, before=before_seq):
            out.append(event)
            if len(out) >= limit:
                break
        return out

    def _payloads_of(self, message_ids: Sequence[str], type_: str) -> list[tuple[str, dict[str, Any]]]:
        """(message id, payload) of the messages' ``type_`` events, in seq order."""
        if not message_ids:
            return []
        q = (
            sa.select(t.events.c.message_id, t.events.c.payload)
            .where(t.events.c.message_id.in_(list(message_ids)), t.events.c.type == type_)
            .order_by(t.events.c.seq)
        )
        with self._read() as conn:
            return [(message_id, json.loads(payload)) for message_id, payload in conn.execute(q)]

    def message_checks(self, message_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Each message's text verification (its last ``verification`` event of scope text), as
        NumberCheck dicts by message id; messages without one are left out."""
        out: dict[str, list[dict[str, Any]]] = {}
        for message_id, data in self._payloads_of(message_ids, "verification"):
            if data.get("scope") == "text":
                out[message_id] = data.get("checks") or []
        return out

    def message_citations(self, message_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Each message's ``citation`` events (their payloads, in seq order) by message id;
        messages without one are left out."""
        out: dict[str, list[dict[str, Any]]] = {}
        for message_id, data in self._payloads_of(message_ids, "citation"):
            out.setdefault(message_id, []).append(data)
        return out

    def last_seq(self, conversation_id: str, *, message_id: str | None = None) -> int:
        """The highest seq logged in the conversation (of one message if given; 0 if none)."""
        with self._read() as conn:
            return self._last_seq(conn, conversation_id, message_id)

    def message_text_before(self, conversation_id: str, message_id: str, seq: int) -> str:
        """The message's text as the log has it just before ``seq`` (seeds accumulated_text)."""
        with self._read() as conn:
            return "".join(self._logged_text(conn, conversation_id, message_id, before=seq))

    @staticmethod
    def _logged_text(conn: sa.Connection, conversation_id: str, message_id: str,
                     before: int | None = None) -> list[str]:
        c = t.events.c
        q = (
            sa.select(c.seq, c.message_id, c.type, c.payload)
            .where(c.conversation_id == conversation_id, c.message_id == message_id,
                   c.type.in_(("text_delta", compact.RUN_TYPE)))
            .order_by(c.seq)
        )
        if before is not None:
            q = q.where(c.seq < before)
        return compact.texts(conn.execute(q).tuples().all(), before=before)

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
                if self.dialect == "postgresql":
                    notify(conn, self.notify_channel, row.conversation_id, done.seq)
                # The row's text is written at the end of a run; the log has all of it.
                text = "".join(self._logged_text(conn, row.conversation_id, row.id))
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
        row = (conn.execute(_LAST, {"cid": conversation_id}) if message_id is None
               else conn.execute(_LAST_OF, {"cid": conversation_id, "mid": message_id})).first()
        return compact.last_seq_of(row.seq, row.type, row.payload) if row is not None else 0
