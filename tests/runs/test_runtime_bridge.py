"""The runtime: one background loop for sync callers (Streamlit), uploads, the sync tail."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import finstream.runs.bridge as runtime_module
from finstream.runs.bridge import Runtime, get_runtime
from finstream.settings import Settings, get_settings
from tests.support.filings import FILINGS_DIR as FILINGS
from tests.support.uploads import upload


def demo_settings(tmp_path: Path) -> Settings:
    return Settings(FINSTREAM_DATA_DIR=tmp_path / "data", FINSTREAM_DEMO=True, FINSTREAM_DEMO_DELAY=0.0,
                    DATABASE_URL=None)


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime(demo_settings(tmp_path))
    yield rt
    rt.close()


def test_upload_then_ask_streams_through_the_sync_tail(runtime, tmp_path):
    assert (tmp_path / "data" / "finstream.db").exists()
    cid = runtime.store.create_conversation("Apple").id
    data = (FILINGS / "apple_consolidated.csv").read_bytes()
    doc = upload(runtime, cid, "apple_consolidated.csv", data)
    assert doc.ok, doc.error
    mid = runtime.start(cid, "What was revenue?")
    events = list(runtime.iter_tail(cid, 0))
    assert events[0].type == "message_start" and events[-1].type == "message_complete"
    assert events[-1].success, events
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    text = "".join(e.text for e in events if e.type == "text_delta")
    assert runtime.store.get_message(mid).text == text
    assert [e.accumulated_text for e in events if e.type == "text_delta"][-1] == text
    if "get_financial_data" in runtime.runs.toolbox.names():  # the data tools have landed
        kinds = {a.kind for a in runtime.store.message_artifacts(mid)}
        assert "chart" in kinds, events


def test_bad_uploads_are_stored_with_a_reason_naming_the_file(runtime):
    cid = runtime.store.create_conversation().id
    good = upload(runtime, cid, "apple_consolidated.csv", (FILINGS / "apple_consolidated.csv").read_bytes())
    empty = upload(runtime, cid, "empty.pdf", b"")
    junk = upload(runtime, cid, "report.pdf", b"%PDF-1.7 this is not really a pdf")
    assert good.ok
    for doc, name in ((empty, "empty.pdf"), (junk, "report.pdf")):
        assert not doc.ok and doc.error.startswith(name), doc.error
    assert [d.filename for d in runtime.store.list_documents(cid)] == [
        "apple_consolidated.csv", "empty.pdf", "report.pdf"]
    assert len(runtime.store.filings(cid)) == 1  # the good one is intact and used


def test_closing_the_sync_tail_leaves_the_run_going(tmp_path):
    rt = Runtime(Settings(FINSTREAM_DATA_DIR=tmp_path / "d", FINSTREAM_DEMO=True,
                          FINSTREAM_DEMO_DELAY=0.01, DATABASE_URL=None))
    try:
        cid = rt.store.create_conversation().id
        mid = rt.start(cid, "What was revenue?")
        tail = rt.iter_tail(cid, 0)
        first = next(tail)
        tail.close()  # a Streamlit rerun ends the generator
        assert first.type == "message_start"
        result = rt.call(rt.runs.wait(mid))
        assert result["status"] == "complete" and result["text"]
        again = list(rt.iter_tail(cid, 1, message_id=mid))  # re-attach from the cursor
        assert again[0].seq == 2 and again[-1].type == "message_complete"
    finally:
        rt.close()


def test_get_runtime_is_one_per_process(tmp_path, monkeypatch):
    monkeypatch.setenv("FINSTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FINSTREAM_DEMO", "1")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    monkeypatch.setattr(runtime_module, "_runtime", None)
    seen: list[Runtime] = []
    threads = [threading.Thread(target=lambda: seen.append(get_runtime())) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        assert len(seen) == 8 and all(r is seen[0] for r in seen)
        assert Path(seen[0].store.engine.url.database).parent == tmp_path / "data"
    finally:
        seen[0].close()
        get_settings.cache_clear()


async def test_code_on_another_event_loop_uses_acall_and_atail(runtime):
    cid = runtime.store.create_conversation().id
    mid = await runtime.acall(runtime.runs.start(cid, "What was revenue?"))
    events = [e async for e in runtime.atail(cid, 0)]
    assert events[-1].type == "message_complete" and events[-1].message_id == mid
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    again = [e async for e in runtime.atail(cid, 2, accumulated=False)]
    assert [e.seq for e in again] == [e.seq for e in events[2:]]


EXIT_SCRIPT = """
import sys
from finstream.runs.bridge import get_runtime
rt = get_runtime()
cid = rt.store.create_conversation("exit").id
mid = rt.start(cid, "What is the revenue trend?")
first = next(rt.iter_tail(cid, 0, message_id=mid))  # the run is live
print(cid, mid, first.type, flush=True)
# no rt.close(): the process just ends mid-run, as scripts and Streamlit's server do
"""


def test_exiting_without_close_ends_runs_quietly_and_durably(tmp_path):
    """The exit hook closes the runtime before the interpreter stops the store's thread pool:
    no "cannot schedule new futures" traceback, and the live run is logged as interrupted."""
    import subprocess
    import sys

    env = {**os.environ, "FINSTREAM_DATA_DIR": str(tmp_path / "data"), "FINSTREAM_DEMO": "1",
           "FINSTREAM_DEMO_DELAY": "0.2", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("DATABASE_URL", None)
    env.pop("ANTHROPIC_API_KEY", None)
    proc = subprocess.run([sys.executable, "-c", EXIT_SCRIPT], env=env, capture_output=True,
                          cwd=Path(__file__).resolve().parents[2],
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "cannot schedule" not in proc.stderr, proc.stderr
    cid, mid, first = proc.stdout.split()
    assert first == "message_start"
    from finstream.store import Store

    store = Store(f"sqlite:///{tmp_path / 'data' / 'finstream.db'}")
    try:
        message = store.get_message(mid)
        assert message.status == "interrupted"
        assert store.read_events(cid)[-1].stop_reason == "interrupted"
        assert store.get_conversation(cid).active_message_id is None
    finally:
        store.close()
