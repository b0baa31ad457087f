"""Ordered, named schema migrations, run programmatically at start-up.

Why not Alembic: the schema is small, both backends are reached through SQLAlchemy Core, and the
app must migrate itself on first start with no ini file or script directory to ship. A migration is
a function of a Connection; ``schema_migrations`` records the names applied. Each migration keeps
its own frozen table definitions, so editing schema.py never changes history. Concurrent starts are
serialised (PostgreSQL advisory lock; SQLite's write lock via BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

Migration = tuple[str, Callable[[sa.Connection], None]]


def _m0001_initial(conn: sa.Connection) -> None:
    md = sa.MetaData()
    ts = sa.DateTime(timezone=True)
    fk = lambda target: sa.ForeignKey(target, ondelete="CASCADE")  # noqa: E731
    sa.Table(
        "conversations", md,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False, server_default=""),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("active_message_id", sa.String(32), nullable=True),
    )
    sa.Table(
        "messages", md,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("conversation_id", sa.String(32), fk("conversations.id"), nullable=False, index=True),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stop_reason", sa.String(64), nullable=True),
        sa.Column("usage", sa.JSON, nullable=True),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("run_owner", sa.String(200), nullable=True),
        sa.Column("heartbeat_at", ts, nullable=True),
    )
    sa.Table(
        "documents", md,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("conversation_id", sa.String(32), fk("conversations.id"), nullable=False, index=True),
        sa.Column("filename", sa.String(500), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("parsed", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", ts, nullable=False),
    )
    sa.Table(
        "artifacts", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(32), fk("messages.id"), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(32), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.UniqueConstraint("message_id", "kind", "idx", name="uq_artifacts_message_kind_idx"),
    )
    sa.Table(
        "events", md,
        sa.Column("conversation_id", sa.String(32), fk("conversations.id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.String(32), nullable=False, index=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    sa.Table(
        "share_links", md,
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(32), fk("conversations.id"), nullable=False, index=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    md.create_all(conn)


def _m0002_feedback_and_versions(conn: sa.Connection) -> None:
    """Thumbs up/down with a comment per answer, and question versions (edit, regenerate)."""
    md = sa.MetaData()
    sa.Table("messages", md, sa.Column("id", sa.String(32), primary_key=True))  # the FK's target
    feedback = sa.Table(
        "feedback", md,
        sa.Column("message_id", sa.String(32), sa.ForeignKey("messages.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("conversation_id", sa.String(32), nullable=False, index=True),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    feedback.create(conn)
    # A user message asked again (edited, or its answer regenerated) names the one it replaces;
    # both stay, so every earlier version is kept and can be shown.
    conn.execute(sa.text("ALTER TABLE messages ADD COLUMN replaces VARCHAR(32)"))


def _m0003_api_messages(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table("conversations", md, sa.Column("id", sa.String(32), primary_key=True))  # FK target
    api = sa.Table(
        "api_messages", md,
        sa.Column("conversation_id", sa.String(32),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("meta", sa.JSON, nullable=True),
    )
    api.create(conn)


MIGRATIONS: list[Migration] = [
    ("0001_initial", _m0001_initial),
    ("0002_feedback_and_versions", _m0002_feedback_and_versions),
    ("0003_api_messages", _m0003_api_messages),
]

_LOCK_KEY = 0x66696E73  # "fins": advisory lock id for PostgreSQL


def _ledger() -> sa.Table:
    return sa.Table(
        "schema_migrations",
        sa.MetaData(),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
    )


def migrate(engine: sa.Engine, migrations: list[Migration] | None = None) -> list[str]:
    """Apply the migrations not yet applied, in order; return their names."""
    migrations = MIGRATIONS if migrations is None else migrations
    ledger = _ledger()
    applied_now: list[str] = []
    with engine.connect().execution_options(sqlite_immediate=True) as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            ledger.create(conn, checkfirst=True)
            done = set(conn.execute(sa.select(ledger.c.name)).scalars())
            for name, apply in migrations:
                if name in done:
                    continue
                apply(conn)
                conn.execute(ledger.insert().values(name=name, applied_at=datetime.now(UTC)))
                applied_now.append(name)
    return applied_now
