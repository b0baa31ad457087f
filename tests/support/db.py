"""Real databases for tests: a SQLite file in a temp dir, and a fresh schema on the real PostgreSQL.

PostgreSQL is found through FINSTREAM_TEST_DATABASE_URL. If it is unreachable the PG cases skip
with the reason, unless CI is set: there they must run, so they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from finstream.store import Store
from finstream.store.engine import normalise_url

PG_URL = os.environ.get(
    "FINSTREAM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_pg_error: str | None = None
_pg_checked = False


def pg_unavailable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    global _pg_checked, _pg_error
    if not _pg_checked:
        _pg_checked = True
        try:
            engine = sa.create_engine(normalise_url(PG_URL), connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # any failure to connect means "not reachable"
            _pg_error = f"PostgreSQL at {PG_URL} unreachable: {type(exc).__name__}: {exc}"
    return _pg_error


def require_pg() -> None:
    reason = pg_unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so PostgreSQL tests must run)")
        pytest.skip(reason)


def fresh_schema() -> str:
    return f"fs_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"


def drop_schema(schema: str) -> None:
    engine = sa.create_engine(normalise_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'finstream.db'}"


def open_test_store(kind: str, tmp_path: Path) -> tuple[Store, str | None]:
    """(store, pg schema or None)."""
    if kind == "sqlite":
        return Store(sqlite_url(tmp_path)), None
    require_pg()
    schema = fresh_schema()
    return Store(PG_URL, schema=schema), schema


@contextmanager
def opened_store(kind: str, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on ``kind`` ("sqlite" or "postgresql": a fresh schema, dropped after)."""
    st, schema = open_test_store(kind, tmp_path)
    try:
        yield st
    finally:
        st.close()
        if schema:
            drop_schema(schema)


def open_turns(store: Store, n: int) -> list[tuple[str, str]]:
    """``n`` new conversations, each with a turn begun: (conversation_id, assistant message_id)."""
    turns = []
    for _ in range(n):
        cid = store.create_conversation().id
        turns.append((cid, store.begin_turn(cid, "q").assistant.id))
    return turns
