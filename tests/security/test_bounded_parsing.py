"""Hostile uploads against a real ``finstream serve``: each is refused by name with the limit it
hit, the server's own memory stays small, and a stream that is open meanwhile completes.

Files are generated here (tests/security/hostile_files.py): a PDF whose one content stream
inflates to 3 GB, a 2,000-page PDF, a PDF that needs seconds of CPU, an XLSX whose cells all
point at one 1 MB shared string. Memory is the server process's peak resident set (VmHWM from
/proc), read after the attacks; nothing is timed.
"""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse

from finstream.filings.ingest import ingest
from finstream.filings.limits import ParseLimits
from finstream.filings.model import FilingError
from finstream.filings.sandbox import ParserPool
from tests.security import hostile_files as hostile
from tests.security.served import Served

SAMPLE = Path(__file__).resolve().parents[2] / "finstream" / "samples" / "CIK0000320193.json"
MEMORY_MB = 600
CPU_SECONDS = 2


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Served(tmp_path_factory.mktemp("bounded"), FINSTREAM_DEMO_DELAY="0.03",
                    FINSTREAM_PARSE_MEMORY_MB=str(MEMORY_MB), FINSTREAM_PARSE_CPU_SECONDS=str(CPU_SECONDS),
                    FINSTREAM_PARSE_WORKERS="2")
    yield server
    server.stop()


def _upload(client: httpx.Client, cid: str, name: str, data: bytes) -> httpx.Response:
    return client.post(f"/api/conversation/{cid}/documents", files={"files": (name, data)})


@pytest.mark.timeout(300)  # a hang guard: building the 3 GB bomb alone takes a minute on a loaded box
def test_hostile_uploads_are_refused_while_the_server_and_other_streams_go_on(served):
    bomb = hostile.pdf_inflation_bomb()
    files = [
        ("bomb.pdf", bomb, f"memory limit of {MEMORY_MB} MB"),
        ("pages.pdf", hostile.pdf_many_pages(2000), "2,000 pages, over the limit of 1,500"),
        ("cpu.pdf", hostile.pdf_cpu_heavy(), f"limit of {CPU_SECONDS} s of CPU time"),
        ("strings.xlsx", hostile.xlsx_shared_string_bomb(), "FINSTREAM_MAX_TEXT_MB"),
    ]
    assert len(bomb) < 4 * 2**20  # small on disk: gigabytes only once inflated
    with httpx.Client(base_url=served.url, timeout=120) as client:
        good = client.post("/api/conversation", json={}).json()["conversation_id"]
        assert _upload(client, good, SAMPLE.name, SAMPLE.read_bytes()).status_code == 201
        hostile_cid = client.post("/api/conversation", json={}).json()["conversation_id"]
        hwm_before = served.status("VmHWM")

        # A stream that is open while the attacks run, read on its own thread.
        events: list[dict] = []

        def stream() -> None:
            with httpx.Client(base_url=served.url, timeout=120) as c, connect_sse(
                c, "POST", f"/api/conversation/{good}/message/stream?accumulated=false",
                json={"message": "Show Apple's revenue trend"},
            ) as source:
                events.extend(sse.json() for sse in source.iter_sse())

        reader = threading.Thread(target=stream)
        reader.start()
        refusals = {}
        for name, data, _ in files:
            r = _upload(client, hostile_cid, name, data)
            assert r.status_code == 422, (name, r.text)
            refusals[name] = r.json()["rejected"][0]["reason"]
            assert client.get("/healthz").json() == {"status": "ok"}  # still answering
        reader.join(120)

        # The next ordinary upload parses normally: the killed workers were replaced.
        assert _upload(client, hostile_cid, "again.json", SAMPLE.read_bytes()).status_code == 201
        docs = client.get(f"/api/conversation/{hostile_cid}").json()["documents"]

    for name, _, limit in files:
        assert limit in refusals[name], (name, refusals[name])
    assert {d["filename"]: bool(d["error"]) for d in docs} == {
        "bomb.pdf": True, "pages.pdf": True, "cpu.pdf": True, "strings.xlsx": True, "again.json": False}
    assert events[0]["type"] == "message_start"
    assert events[-1]["type"] == "message_complete" and events[-1]["success"] is True
    assert any(e["type"] == "chart_ready" for e in events)
    # The server itself never held the inflated data (the parse ran in a bounded worker).
    hwm_after = served.status("VmHWM")
    assert hwm_after - hwm_before < 150 * 1024, (hwm_before, hwm_after)
    assert hwm_after < 500 * 1024


def test_a_crashed_worker_fails_only_its_own_file_and_is_replaced():
    pool = ParserPool(ParseLimits(memory_mb=MEMORY_MB, cpu_seconds=30), workers=2)
    try:
        before = set(pool.worker_pids())
        results: dict[str, object] = {}

        def parse(name: str, data: bytes) -> None:
            try:
                results[name] = pool.parse(name, data)
            except FilingError as exc:
                results[name] = exc

        sample = SAMPLE.read_bytes()
        threads = [threading.Thread(target=parse, args=("bomb.pdf", hostile.pdf_inflation_bomb())),
                   threading.Thread(target=parse, args=("apple.json", sample))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert isinstance(results["bomb.pdf"], FilingError)
        assert "bomb.pdf" in str(results["bomb.pdf"]) and f"{MEMORY_MB} MB" in str(results["bomb.pdf"])
        assert len(results["apple.json"].facts) > 500  # the neighbour's parse was not affected
        again = pool.parse("apple.json", sample)
        assert again.company == results["apple.json"].company
        assert set(pool.worker_pids()) != before  # a new process took the dead one's place
    finally:
        pool.close()


@pytest.mark.timeout(600)  # a hang guard: tracemalloc slows parsing several-fold on a loaded machine
def test_companyfacts_with_300k_facts_peaks_under_10x_its_size():
    data = hostile.companyfacts(300_000)
    tracemalloc.start()
    try:
        filing = ingest("big.json", data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(filing.facts) == 300_000
    assert peak < 10 * len(data), f"peak {peak / len(data):.1f}x the file size"
    # Built without re-validation, the facts are still what validation would have made.
    fact = filing.facts[0]
    assert type(fact).model_validate(fact.model_dump()) == fact
