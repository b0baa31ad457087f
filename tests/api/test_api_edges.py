"""Keep-alive pings, CORS, the stream cap on WebSockets, and an app that builds its own run manager."""

from __future__ import annotations

import json

import httpx
import pytest
import websockets
from httpx_sse import aconnect_sse
from websockets.exceptions import ConnectionClosed

from finstream import events as ev
from finstream.api.config import ApiSettings
from tests.api.api_support import TOKEN, ChartAnalyst, LiveServer, auth
from tests.api.test_api_sse import new_conversation


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """Pings every 50 ms, a provider that pauses 150 ms between parts, CORS for one origin."""
    api = ApiSettings(token=TOKEN, cors_origins=["http://allowed.example"], sse_ping_seconds=0.05,
                      max_streams=3)
    with LiveServer(tmp_path_factory.mktemp("slow") / "s.db", provider=ChartAnalyst(words=2, delay=0.15, tools=False),
                    api=api) as server:
        yield server


async def test_idle_stream_gets_keep_alive_comments_and_events_still_parse(slow):
    async with httpx.AsyncClient(base_url=slow.url, headers=auth(), timeout=30) as client:
        cid = await new_conversation(client)
        lines = []
        async with client.stream("POST", f"/api/conversation/{cid}/message/stream",
                                 json={"message": "q"}) as r:
            async for line in r.aiter_lines():
                lines.append(line)
        assert any(line.startswith(": ping") for line in lines)
        data = [ev.parse_event(line[len("data: "):]) for line in lines if line.startswith("data: ")]
        assert [e.type for e in data] == ["message_start"] + ["text_delta"] * 2 + ["message_complete"]


async def test_cors_preflight_and_headers(slow):
    async with httpx.AsyncClient(base_url=slow.url, timeout=30) as client:
        pre = await client.options("/api/conversation", headers={
            "Origin": "http://allowed.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "http://allowed.example"
        r = await client.post("/api/conversation", json={}, headers={**auth(), "Origin": "http://allowed.example"})
        assert r.status_code == 201 and r.headers["access-control-allow-origin"] == "http://allowed.example"
        other = await client.post("/api/conversation", json={}, headers={**auth(), "Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        bad = await client.options("/api/conversation", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        assert bad.status_code == 400


async def test_stream_cap_refuses_extra_websockets_with_1013_and_sse_with_503(slow):
    async with httpx.AsyncClient(base_url=slow.url, headers=auth(), timeout=30) as client:
        cid = await new_conversation(client)
        url = f"{slow.ws_url}/ws/conversation/{cid}?token={TOKEN}"
        held = [await websockets.connect(url) for _ in range(3)]
        try:
            async with websockets.connect(url) as extra:
                with pytest.raises(ConnectionClosed) as info:
                    await extra.recv()
            assert info.value.rcvd.code == 1013
            await client.post(f"/api/conversation/{cid}/message?wait=false", json={"message": "q"})
            r = await client.get(f"/api/conversation/{cid}/message/stream")
            assert r.status_code == 503 and r.json()["error"]["code"] == "too_many_streams"
        finally:
            for sock in held:
                await sock.close()
        # Slots come back when sockets close: the server serves again.
        async with websockets.connect(url) as sock:
            await sock.send(json.dumps({"type": "resume", "after": 0}))
            seen = [ev.parse_event(await sock.recv())]
            while seen[-1].type != "message_complete":
                seen.append(ev.parse_event(await sock.recv()))
            assert seen[0].type == "message_start"


async def test_app_without_a_manager_runs_its_own_on_the_servers_loop(tmp_path):
    """create_app() with no manager (what `serve` does): its own store and RunManager from the
    settings, started in the lifespan, answering streamed and non-streaming questions. A Runtime
    (a loop of its own) is no longer accepted: the bridge to it was a dead path."""
    import asyncio
    import threading

    import uvicorn

    from finstream.api.app import create_app
    from finstream.settings import Settings

    settings = Settings(FINSTREAM_DEMO=True, FINSTREAM_DEMO_DELAY=0, FINSTREAM_DATA_DIR=tmp_path,
                        DATABASE_URL=f"sqlite:///{tmp_path / 'own.db'}")
    with pytest.raises(TypeError, match="RunManager"):
        from finstream.api.app import _backend_for
        from finstream.api.config import api_settings

        _backend_for(object(), None, api_settings(settings))  # e.g. a Runtime
    app = create_app(settings=settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            cid = await new_conversation(client)
            async with aconnect_sse(client, "POST", f"/api/conversation/{cid}/message/stream",
                                    json={"message": "What is the revenue trend?"}) as source:
                events = [ev.parse_event(s.data) async for s in source.aiter_sse()]
            assert events[0].type == "message_start" and isinstance(events[-1], ev.MessageComplete)
            assert events[-1].success
            body = (await client.post(f"/api/conversation/{cid}/message", json={"message": "again"})).json()
            assert body["status"] == "complete" and body["text"]
        assert (tmp_path / "own.db").exists()  # the settings' store, not a default one
    finally:
        server.should_exit = True
        thread.join(15)
