"""finstream.client against a real server (uvicorn on 127.0.0.1) with faults injected between
them: connections cut mid-stream, a proxy that refuses event streams, a server that answers 503."""

from __future__ import annotations

import httpx
import pytest

from finstream.api.config import ApiSettings
from finstream.client import AsyncClient, Client, ClientError
from tests.api.api_support import TOKEN, ChartAnalyst, LiveServer
from tests.client.fault_proxy import FaultProxy

QUESTION = "Revenue trend with a chart?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with LiveServer(tmp_path_factory.mktemp("client") / "api.db",
                    provider=ChartAnalyst(words=150, delay=0.004)) as s:
        yield s


@pytest.fixture
def proxy(server: LiveServer):
    with FaultProxy(server.port) as p:
        yield p


def log_of(server: LiveServer, cid: str, mid: str) -> list[dict]:
    """The message's events as the server's log has them (read directly, not through the proxy)."""
    import json

    from httpx_sse import connect_sse

    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as c, \
            connect_sse(c, "GET", f"/api/conversation/{cid}/message/stream",
                        params={"message_id": mid, "after": 0, "accumulated": "false"}) as source:
        return [json.loads(s.data) for s in source.iter_sse()]


def dumped(events) -> list[dict]:  # noqa: ANN001
    from finstream import events as ev

    return [ev.event_to_dict(e, accumulated=False) for e in events]


async def test_stream_resumes_after_cut_connections_exactly(server, proxy):
    proxy.cut_streams = 2
    async with AsyncClient(proxy.url, TOKEN, retry_delay=0.05) as fs:
        cid = await fs.create_conversation("cuts")
        stream = await fs.stream(cid, QUESTION)
        events = [e async for e in stream]
        answer = stream.answer
    assert proxy.cuts_done == 2 and answer.resumes == 2 and answer.streamed
    assert dumped(events) == log_of(server, cid, answer.message_id)
    seqs = [e.seq for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert answer.status == "complete"
    assert answer.text == "".join(e.text for e in events if e.type == "text_delta")
    assert sorted(a["kind"] for a in answer.artifacts) == ["chart", "metric", "table"]


async def test_proxy_refusing_event_streams_falls_back_to_the_same_answer(server, proxy):
    async with AsyncClient(proxy.url, TOKEN) as fs:
        cid = await fs.create_conversation("streamed")
        streamed = await fs.ask(cid, QUESTION)
        proxy.refuse_streams = True
        cid2 = await fs.create_conversation("refused")
        fallen = await fs.ask(cid2, QUESTION)
    assert streamed.streamed and streamed.events
    assert not fallen.streamed and fallen.events == []
    assert "502" in fallen.fallback_reason
    # The same result object either way: only ids and seqs differ.
    assert (fallen.status, fallen.stop_reason, fallen.text, fallen.usage) == (
        streamed.status, streamed.stop_reason, streamed.text, streamed.usage)
    strip = lambda arts: [(a["kind"], a["index"], a["data"]) for a in arts]  # noqa: E731
    assert strip(fallen.artifacts) == strip(streamed.artifacts) and fallen.artifacts


async def test_server_at_its_stream_limit_503_falls_back(tmp_path):
    api = ApiSettings(token=TOKEN, max_streams=0)
    with LiveServer(tmp_path / "api.db", provider=ChartAnalyst(words=20), api=api) as s:
        async with AsyncClient(s.url, TOKEN, retry_delay=0.01) as fs:
            cid = await fs.create_conversation()
            answer = await fs.ask(cid, QUESTION)
    assert not answer.streamed and "503" in answer.fallback_reason
    assert answer.status == "complete" and len(answer.artifacts) == 3


def test_sync_client_streams_resumes_and_manages_conversations(server, proxy):
    proxy.cut_streams = 1
    with Client(proxy.url, TOKEN, retry_delay=0.05) as fs:
        cid = fs.create_conversation("sync")
        stream = fs.stream(cid, QUESTION)
        events = list(stream)
        assert stream.answer.resumes == 1 and stream.answer.complete
        assert dumped(events) == log_of(server, cid, stream.message_id)
        assert fs.rename(cid, "renamed")["title"] == "renamed"
        assert any(c["conversation_id"] == cid and c["title"] == "renamed" for c in fs.conversations())
        link = fs.share(cid)
        assert len(link["token"]) >= 40 and link["app_path"] == f"/?share={link['token']}"
        fb = fs.feedback(cid, stream.message_id, "up", "useful")
        assert fb["rating"] == "up"
        with pytest.raises(ClientError) as err:
            fs.continue_answer(cid, stream.message_id)
        assert err.value.status == 409 and err.value.code == "not_continuable"
        fs.delete(cid)
        with pytest.raises(ClientError) as err:
            fs.history(cid)
        assert err.value.status == 404


async def test_stopped_answer_continued_through_the_client(server):
    import asyncio

    async with AsyncClient(server.url, TOKEN) as fs:
        cid = await fs.create_conversation()
        stream = await fs.stream(cid, QUESTION)
        stopped = False
        async for event in stream:
            if event.type == "text_delta" and event.seq > 5 and not stopped:
                stopped = await fs.stop(cid)
        assert stopped
        assert stream.answer.status == "stopped"
        await asyncio.sleep(0)
        done = await fs.continue_answer(cid, stream.answer.message_id)
    assert done.status == "complete" and done.events[0].seq > stream.answer.events[-1].seq
    assert done.text.startswith(stream.answer.text)
