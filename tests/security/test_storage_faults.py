"""Nothing reported saved that was not: a full disk and a dropped database mid-answer, NUL bytes
everywhere, and a crashed server's unlogged seqs.

Real faults, no mocks: SQLite on a small tmpfs filled to the last byte mid-run; a real PostgreSQL
database dropped (``WITH (FORCE)``) mid-run and created again; a child process SIGKILLed while
its events were published but not yet logged.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from finstream import events as ev
from finstream.filings.model import Filing, Section
from finstream.providers.scripted import ScriptedProvider, text_step
from finstream.runs import RunManager
from finstream.settings import Settings
from finstream.store import AsyncStore, Store
from finstream.store.engine import normalise_url
from finstream.tools import default_toolbox
from tests.api.api_support import ChartAnalyst
from tests.support.db import PG_URL, opened_store, require_pg

ROOT = Path(__file__).resolve().parents[2]


def _manager(store: Store, provider) -> RunManager:  # noqa: ANN001
    return RunManager(AsyncStore(store), lambda: provider, default_toolbox(), Settings(FINSTREAM_DEMO=True),
                      flush_interval=0.01)


async def _collect(manager: RunManager, cid: str, mid: str) -> list[ev.Event]:
    return [e async for e in manager.tail(cid, message_id=mid)]


async def _until(predicate, limit: float = 30.0) -> None:  # noqa: ANN001
    for _ in range(int(limit / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


def _assert_storage_ending(events: list[ev.Event]) -> None:
    done = [e for e in events if e.type == "message_complete"]
    assert len(done) == 1 and done[0].success is False and done[0] is events[-1]
    errors = [e for e in events if e.type == "error"]
    assert [(e.code, e.retryable) for e in errors] == [("storage", True)]
    assert events[-2] is errors[0]
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))


# ------------------------------------------------------------------ full disk


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path) -> None:
    with path.open("wb") as f:
        try:
            while True:
                f.write(os.urandom(64 * 1024))
                f.flush()
        except OSError:
            pass


async def test_a_full_disk_mid_answer_ends_it_with_a_storage_error_then_the_log_heals(small_disk):
    store = Store(f"sqlite:///{small_disk / 'finstream.db'}")
    manager = _manager(store, ChartAnalyst(words=400, delay=0.005, tools=False))
    cid = store.create_conversation("disk").id
    mid = await manager.start(cid, "A long answer?")
    tail = asyncio.create_task(_collect(manager, cid, mid))
    await _until(lambda: store.last_seq(cid) >= 20)
    filler = small_disk / "filler"
    await asyncio.to_thread(_fill, filler)  # the disk is full from here
    events = await asyncio.wait_for(tail, 60)
    _assert_storage_ending(events)
    assert manager.active_message(cid) is None  # free in this process at once
    assert not any(e.type == "message_complete" and e.success for e in events)

    filler.unlink()  # space again: the run's repair writes what it kept and frees the row
    await _until(lambda: store.get_message(mid).status != "streaming")
    msg = store.get_message(mid)
    assert (msg.status, msg.error["code"]) == ("incomplete", "storage")
    assert store.get_conversation(cid).active_message_id is None
    logged = store.read_events(cid)
    assert [e.model_dump() for e in logged] == [e.model_dump(exclude={"accumulated_text"}) | {
        "accumulated_text": None} if e.type == "text_delta" else e.model_dump() for e in events]
    assert msg.text == "".join(e.text for e in events if e.type == "text_delta")
    # and the conversation takes the next question
    again = await manager.start(cid, "Again?")
    assert (await manager.wait(again))["status"] == "complete"
    await manager.shutdown()
    manager.store.close()


# ------------------------------------------------------------------ database dropped


def _admin() -> sa.Engine:
    return sa.create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")


async def test_a_dropped_database_mid_answer_ends_it_with_a_storage_error_and_the_store_comes_back():
    require_pg()
    name = f"fs_drop_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = normalise_url(PG_URL).rsplit("/", 1)[0] + f"/{name}"
    store = Store(url)
    try:
        manager = _manager(store, ChartAnalyst(words=400, delay=0.005, tools=False))
        cid = store.create_conversation("pg").id
        mid = await manager.start(cid, "A long answer?")
        tail = asyncio.create_task(_collect(manager, cid, mid))
        await _until(lambda: store.last_seq(cid) >= 20)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        events = await asyncio.wait_for(tail, 60)
        _assert_storage_ending(events)
        assert manager.active_message(cid) is None
        with pytest.raises(sa.exc.SQLAlchemyError):
            store.create_conversation("while it is gone")

        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        # The same Store (no restart): new connections, the tables made again.
        for _ in range(3):
            try:
                fresh = store.create_conversation("after")
                break
            except sa.exc.SQLAlchemyError:
                await asyncio.sleep(0.2)
        again = await manager.start(fresh.id, "Revenue?")
        assert (await manager.wait(again))["status"] == "complete"
        await manager.shutdown()
        manager.store._pool.shutdown(wait=True)
    finally:
        store.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# ------------------------------------------------------------------ NUL and friends


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_nul_and_lone_surrogates_are_cleaned_identically_on_both_stores(kind, tmp_path):
    answer = "Revenue\x00 was $391B \ud800and\x00 rose."
    with opened_store(kind, tmp_path) as store:
        conv = store.create_conversation("Apple\x00 FY2024")
        filing = Filing(filename="a\x00.txt", format="text",
                        sections=[Section(title="Item\x00 7", text="Net sales\x00 391,035")])
        store.add_document(conv.id, "a\x00.txt", b"x", filing=filing)
        provider = ScriptedProvider([text_step(answer)])
        manager = _manager(store, provider)
        mid = await manager.start(conv.id, "What\x00 was revenue?")
        result = await manager.wait(mid)
        manager.store._pool.shutdown(wait=True)
        assert result["status"] == "complete"
        assert result["text"] == "Revenue was $391B \ufffdand rose."
        messages = store.list_messages(conv.id)
        assert [m.text for m in messages] == ["What was revenue?", "Revenue was $391B \ufffdand rose."]
        assert store.get_conversation(conv.id).title == "Apple FY2024"
        doc = store.list_documents(conv.id)[0]
        assert doc.filename == "a.txt"
        stored = store.filings(conv.id)[0]
        assert stored.sections[0].title == "Item 7" and stored.sections[0].text == "Net sales 391,035"
        assert all("\x00" not in json.dumps(e.model_dump()) for e in store.read_events(conv.id))


# ------------------------------------------------------------------ crash: unlogged seqs


CHILD = """
import asyncio, json, sys
from finstream.runs import RunManager
from finstream.settings import Settings
from finstream.store import Store
from finstream.tools import default_toolbox
from tests.api.api_support import ChartAnalyst

async def main():
    store = Store(sys.argv[1])
    # Events are published at once and logged only every 60 s: a crash leaves them unlogged.
    manager = RunManager(store, lambda: ChartAnalyst(words=5000, delay=0.002, tools=False),
                         default_toolbox(), Settings(FINSTREAM_DEMO=True), batch_size=100000,
                         flush_interval=60)
    cid = store.create_conversation().id
    mid = await manager.start(cid, "Long?")
    async for event in manager.tail(cid, message_id=mid):
        print(json.dumps({"cid": cid, "mid": mid, "seq": event.seq}), flush=True)

asyncio.run(main())
"""


async def test_after_a_crash_no_seq_a_client_saw_is_reused_and_a_resume_gets_the_ending(tmp_path):
    from tests.api.api_support import LiveServer

    db = tmp_path / "crash.db"
    url = f"sqlite:///{db}"
    Store(url).close()
    child = subprocess.Popen([sys.executable, "-c", CHILD, url], cwd=ROOT, stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, text=True)
    seen = 0
    try:
        for line in child.stdout:
            info = json.loads(line)
            seen = info["seq"]
            if seen >= 300:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    cid, mid = info["cid"], info["mid"]
    store = Store(url)
    assert store.last_seq(cid) < seen  # the client saw seqs the log never got
    # A restarted server: recovery marks the answer interrupted, past every seq ever shown.
    manager = RunManager(store, lambda: ChartAnalyst(), default_toolbox(), Settings(FINSTREAM_DEMO=True))
    assert await manager.recover() == [mid]
    ending = store.read_events(cid, after_seq=seen)
    assert [e.type for e in ending] == ["error", "message_complete"]
    assert ending[0].code == "interrupted" and ending[0].seq > seen
    store.close()
    manager.store._pool.shutdown(wait=True)

    # Over HTTP: EventSource resuming from the last id it saw gets the ending, not a 204.
    import httpx

    with LiveServer(db) as live, httpx.Client(base_url=live.url, timeout=30) as client:
        from tests.api.api_support import auth

        r = client.get(f"/api/conversation/{cid}/message/stream", headers={**auth(), "Last-Event-ID": str(seen)})
        assert r.status_code == 200
        frames = [json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:")]
        assert [f["type"] for f in frames] == ["error", "message_complete"]
        assert frames[-1]["stop_reason"] == "interrupted"
        # A client beyond the log's end (a server of the past reused seqs) still learns the end.
        far = client.get(f"/api/conversation/{cid}/message/stream",
                         headers={**auth(), "Last-Event-ID": str(ending[-1].seq + 50)})
        assert far.status_code == 200 and "interrupted" in far.text
        # One that saw the ending gets the usual 204.
        done = client.get(f"/api/conversation/{cid}/message/stream",
                          headers={**auth(), "Last-Event-ID": str(ending[-1].seq)})
        assert done.status_code == 204
    shutil.rmtree(tmp_path / "unused", ignore_errors=True)
