"""SQLite writers in one process take turns at a lock of their own (store/engine.py WriteTurn),
not in SQLite's busy handler, which sleeps on a fixed schedule and grants the lock to no waiter.

The busy handler is taken away here (busy_timeout 0), so any writer that meets the file's write
lock held by another fails at once with "database is locked": with the turns, none does."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from finstream import events as ev
from finstream.store import Store
from finstream.store import engine as engine_mod


def without_busy_handler(store: Store) -> Store:
    """The store's connections give up at once on a held lock (new connections: dispose first)."""

    @sa.event.listens_for(store.engine, "connect")
    def _no_wait(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    store.engine.dispose()
    return store


def write_from_threads(stores: list[Store], threads: int = 8, rounds: int = 40) -> list[BaseException]:
    cids = [stores[0].create_conversation(f"c{i}").id for i in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(i: int) -> None:
        store = stores[i % len(stores)]
        start.wait()
        try:
            for seq in range(1, rounds + 1):
                delta = ev.TextDelta(seq=seq, message_id=f"m{i}", text=f"w{seq} ")
                store.append_batch(cids[i], [delta])
                store.rename_conversation(cids[i], f"c{i} after {seq}")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for i, cid in enumerate(cids):
        if not errors:
            assert [e.seq for e in stores[0].read_events(cid)] == list(range(1, rounds + 1)), f"writer {i}"
    return errors


def test_writers_on_many_threads_never_meet_the_files_lock(tmp_path):
    store = without_busy_handler(Store(f"sqlite:///{tmp_path / 'turns.db'}"))
    try:
        assert write_from_threads([store]) == []
    finally:
        store.close()


def test_two_stores_on_one_file_in_one_process_share_the_turns(tmp_path):
    path = tmp_path / "sub" / ".." / "shared.db"  # the same file by another spelling
    (tmp_path / "sub").mkdir()
    a = without_busy_handler(Store(f"sqlite:///{tmp_path / 'shared.db'}"))
    b = without_busy_handler(Store(f"sqlite:///{path}"))
    try:
        assert write_from_threads([a, b]) == []
    finally:
        a.close()
        b.close()


def test_without_the_turns_the_same_writers_do_meet_it(tmp_path, monkeypatch):
    """The check above can fail: with every writer let through at once, some find the lock held."""
    store = without_busy_handler(Store(f"sqlite:///{tmp_path / 'raw.db'}"))
    monkeypatch.setattr(store, "_write_turn", engine_mod.WriteTurn(None))
    try:
        errors = write_from_threads([store], threads=8, rounds=200)
        assert errors and all("locked" in str(e) for e in errors)
    finally:
        store.close()


def test_a_turn_not_given_in_time_is_a_locked_database_error(tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'held.db'}")
    monkeypatch.setattr(engine_mod, "_BUSY_TIMEOUT", 0.05)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store._write_turn:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            store.create_conversation("waits too long")
    finally:
        release.set()
        holder.join()
    assert store.create_conversation("after").title == "after"  # the turn came back
    store.close()


def test_postgresql_and_private_memory_databases_take_no_turns():
    assert engine_mod.write_turn(sa.create_engine("sqlite://"))._lock is None
    assert engine_mod.write_turn(sa.create_engine("postgresql+psycopg://u@127.0.0.1/x"))._lock is None
