"""Engines for the two supported databases: an embedded SQLite file and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import make_url

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3 here (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, schema: str | None = None) -> sa.Engine:
    """An engine with the settings each backend needs.

    SQLite: the file's directory is created; WAL (readers never wait for the writer), a busy
    timeout (two processes on one file wait instead of failing), foreign keys on, and write
    transactions opened with BEGIN IMMEDIATE when asked (``sqlite_immediate``) so a read-then-write
    never dies on a lock upgrade. PostgreSQL: ``schema`` (created if missing) becomes the
    search_path, which lets test runs and deployments share one database.
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"DATABASE_URL: unsupported database {parsed.get_backend_name()!r}; "
                         "use sqlite:///path or postgresql://...")
    connect_args: dict = {}
    if schema:
        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"database schema {schema!r}: use lowercase letters, digits and _")
        connect_args["options"] = f"-csearch_path={schema}"
    engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                              connect_args=connect_args)
    if schema:
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        except sa.exc.IntegrityError:
            pass  # another process created it at the same moment (IF NOT EXISTS is not atomic)
    return engine


# How long a writer waits for the file's write lock (another process's, or this one's turn).
_BUSY_TIMEOUT = 30.0

# One lock per SQLite file in this process: its writers take turns here, not in SQLite's busy
# handler. SQLite grants the write lock to no waiter: each one sleeps and retries on a fixed
# schedule (1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms), so with a few store threads writing at
# once a commit could sleep for a lock that had been free for most of that time. Other processes
# on the same file still meet the busy timeout.
_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


class WriteTurn:
    """Held around a write transaction (``with turn:``): this process's turn at the SQLite file's
    write lock. Reentrant: a nested write meets SQLite's busy timeout, as it did before."""

    def __init__(self, lock: threading.RLock | None) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        if self._lock is not None and not self._lock.acquire(timeout=_BUSY_TIMEOUT):
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", (), sqlite3.OperationalError("database is locked"))

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()


def write_turn(engine: sa.Engine) -> WriteTurn:
    """The engine's WriteTurn: one lock per SQLite file in the process; none on PostgreSQL, whose
    row locks queue writers themselves, nor for a private in-memory database."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return WriteTurn(None)
    key = os.path.realpath(os.path.expanduser(database))
    with _WRITE_LOCKS_GUARD:
        return WriteTurn(_WRITE_LOCKS.setdefault(key, threading.RLock()))


def _enable_wal(cur: sqlite3.Cursor) -> None:
    """WAL is a property of the file, set once. Switching needs an exclusive lock and SQLite does
    not call the busy handler for it, so processes opening a new file together retry."""
    for attempt in range(100):
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05)


def _sqlite_engine(parsed: sa.URL) -> sa.Engine:
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin" below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT * 1000)}")
        _enable_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        sql = "BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN"
        # On the driver's connection: a statement through SQLAlchemy's execution machinery costs
        # more CPU than the SELECT it precedes (every store call opens a transaction). Its errors
        # (a lock not granted within the busy timeout) are raised as SQLAlchemy's, as before.
        try:
            cast(sqlite3.Connection, conn.connection.driver_connection).execute(sql)
        except sqlite3.Error as exc:
            raise sa.exc.DBAPIError.instance(sql, (), exc, sqlite3.Error) from exc

    return engine
