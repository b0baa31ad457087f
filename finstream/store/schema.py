"""The current schema as SQLAlchemy Core tables (what queries use).

Migrations (migrations.py) create and evolve the database; they do not import these tables, so a
later change here never rewrites history. A test checks the two agree.
"""

from __future__ import annotations

from typing import get_args

import sqlalchemy as sa

from finstream.store.records import MessageStatus

metadata = sa.MetaData()

MESSAGE_STATUSES: tuple[MessageStatus, ...] = get_args(MessageStatus)

def _conversation_id(*, primary_key: bool = False) -> sa.Column[str]:
    """The owning conversation: deleting it deletes the row (indexed, or part of the key)."""
    fk = sa.ForeignKey("conversations.id", ondelete="CASCADE")
    if primary_key:
        return sa.Column("conversation_id", sa.String(32), fk, primary_key=True)
    return sa.Column("conversation_id", sa.String(32), fk, nullable=False, index=True)


conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # The assistant message a run is streaming into; the atomic claim that makes one run at a time
    # per conversation hold across processes.
    sa.Column("active_message_id", sa.String(32), nullable=True),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    _conversation_id(),
    sa.Column("ordinal", sa.Integer, nullable=False),  # order within the conversation
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stop_reason", sa.String(64), nullable=True),
    sa.Column("usage", sa.JSON, nullable=True),
    sa.Column("error", sa.JSON, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Which process streams it ("host:pid:token") and when that process last showed it is alive.
    sa.Column("run_owner", sa.String(200), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    # A question asked again (edited, or its answer regenerated): the user message it replaces.
    sa.Column("replaces", sa.String(32), nullable=True),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    _conversation_id(),
    sa.Column("filename", sa.String(500), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("parsed", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "message_id",
        sa.String(32),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("conversation_id", sa.String(32), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("idx", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.UniqueConstraint("message_id", "kind", "idx", name="uq_artifacts_message_kind_idx"),
)

events = sa.Table(
    "events",
    metadata,
    _conversation_id(primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("message_id", sa.String(32), nullable=False, index=True),
    sa.Column("type", sa.String(32), nullable=False),
    # The event as compact JSON without accumulated_text (which would make the log quadratic).
    sa.Column("payload", sa.Text, nullable=False),
)

share_links = sa.Table(
    "share_links",
    metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    _conversation_id(),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("message_id", sa.String(32), sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("conversation_id", sa.String(32), nullable=False, index=True),
    sa.Column("rating", sa.Integer, nullable=False),  # 1 = thumbs up, 0 = thumbs down
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Every message sent to or received from Claude, content blocks exactly as they were (thinking
# with signatures, tool_use, tool_result), append-only: see finstream/transcript.py.
api_messages = sa.Table(
    "api_messages",
    metadata,
    _conversation_id(primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("message_id", sa.String(32), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.JSON, nullable=False),
    sa.Column("meta", sa.JSON, nullable=True),
)
