"""A real process is SIGKILLed mid-run; another process (same SQLite file or same PostgreSQL)
tails its run live, finds it interrupted, and continues it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from finstream.providers.demo import DemoAnalyst
from finstream.runs import RunBusyError, RunManager
from finstream.store import AsyncStore
from finstream.store.runlog import UNLOGGED_SEQ_BOUND
from finstream.tools import default_toolbox
from tests.runs.conftest import settings
from tests.runs.test_runs_tailing import collect, dumps, with_accumulated
from tests.support.db import PG_URL

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("child_runtime.py")


def spawn_child(kind: str, tmp_path: Path, schema: str | None) -> tuple[subprocess.Popen, dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "DATABASE_URL")}
    env.update(PYTHONPATH=str(REPO), FINSTREAM_DEMO="1", FINSTREAM_DEMO_DELAY="0.25",  # slow: killed long before its end
               FINSTREAM_DATA_DIR=str(tmp_path / "data"))
    if kind == "postgresql":
        env.update(DATABASE_URL=PG_URL, FINSTREAM_DB_SCHEMA=schema)
    proc = subprocess.Popen([sys.executable, str(CHILD), "What was revenue?"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(f"child failed to start: {proc.stderr.read()}")
    return proc, json.loads(line)


async def wait_for_events(store, cid: str, count: int) -> None:
    # Not a timed assertion: waits for the other process's progress, with a generous hang guard.
    deadline = time.monotonic() + 60
    while store.last_seq(cid) < count:
        assert time.monotonic() < deadline, "the child process made no progress"
        await asyncio.sleep(0.05)


async def test_kill_mid_run_then_tail_from_another_process_recover_and_continue(db, tmp_path):
    kind = "postgresql" if db.dialect == "postgresql" else "sqlite"
    schema = _schema_of(db) if kind == "postgresql" else None
    astore = AsyncStore(db)
    demo = DemoAnalyst(delay=0)
    manager = RunManager(astore, lambda: demo, default_toolbox(), settings(), poll_interval=0.05)
    proc, ids = spawn_child(kind, tmp_path, schema)
    cid, mid = ids["conversation_id"], ids["message_id"]
    try:
        # process B follows process A's live run by polling the log
        from_start = asyncio.create_task(collect(manager.tail(cid)))
        await wait_for_events(db, cid, 8)
        from_middle = asyncio.create_task(collect(manager.tail(cid, after_seq=4)))
        viewers = [asyncio.create_task(collect(manager.tail(cid))) for _ in range(20)]
        deadline = time.monotonic() + 60  # a hang guard, not a timed assertion
        while cid not in manager.tailer.feeds or len(manager.tailer.feeds[cid].subscribers) < 22:
            assert not from_start.done(), "the child's run ended before every viewer attached"
            assert time.monotonic() < deadline, "the viewers never all attached to the remote run"
            await asyncio.sleep(0.01)  # all attached to the live remote run
        assert list(manager.tailer.feeds) == [cid]  # one poller for all of this process's viewers
        with pytest.raises(RunBusyError):  # one run per conversation, across processes
            await manager.start(cid, "Another question?")
        logged_before_kill = db.last_seq(cid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert db.get_message(mid).status == "streaming"  # nobody has noticed yet

    assert await manager.recover() == [mid]  # A's pid is dead: interrupted at once
    msg = db.get_message(mid)
    log = db.read_events(cid)
    assert msg.status == "interrupted" and msg.text
    assert msg.text == "".join(e.text for e in log if e.type == "text_delta")
    seqs = [e.seq for e in log]
    assert seqs[:-2] == list(range(1, len(log) - 1))
    # The ending skips past any seq the dead run may have shown without logging (issue 11).
    assert seqs[-2] == seqs[-3] + UNLOGGED_SEQ_BOUND and seqs[-1] == seqs[-2] + 1
    assert len(log) >= logged_before_kill + 2  # all that was logged, then error + message_complete
    assert [e.type for e in log[-2:]] == ["error", "message_complete"]
    assert log[-1].stop_reason == "interrupted"
    expected = with_accumulated(log)
    assert dumps(await from_start) == expected
    assert dumps(await from_middle) == expected[4:]
    for viewer in viewers:
        assert dumps(await viewer) == expected
    assert manager.tailer.feeds == {}  # the poller stopped with the remote run

    # resume in process B: continue the interrupted answer into the same message
    await manager.continue_message(cid, mid)
    result = await manager.wait(mid)
    reference_cid = db.create_conversation().id
    full = await manager.wait(await manager.start(reference_cid, "What was revenue?"))
    assert result["status"] == "complete"
    assert result["text"] == full["text"]  # the demo analyst went on from the partial text
    whole = db.read_events(cid)
    assert dumps(await collect(manager.tail(cid, after_seq=log[-1].seq))) == with_accumulated(whole)[len(log):]
    await manager.shutdown()
    astore._pool.shutdown(wait=True)


def _schema_of(store) -> str:
    with store.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT current_schema()").scalar()
