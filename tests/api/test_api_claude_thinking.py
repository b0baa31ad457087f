"""The API on Claude's current generation (real uvicorn, real SDK, strict replay): reasoning as
thinking_delta events a client can turn off, effort per run, and usage with cache and cost."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from anthropic_replay import SCENARIO_FINAL, ReplayServer, analyst_scenario  # noqa: E402

from finstream.providers.claude import ClaudeProvider  # noqa: E402
from finstream.settings import Settings  # noqa: E402
from tests.api.api_support import TOKEN, LiveServer  # noqa: E402
from tests.api.test_api_sse import read_sse  # noqa: E402


@pytest.fixture(scope="module")
def claude_api(tmp_path_factory):
    with ReplayServer(responder=analyst_scenario) as replay:
        settings = Settings(_env_file=None, ANTHROPIC_API_KEY="sk-ant-api-test", ANTHROPIC_BASE_URL=replay.url)
        with LiveServer(tmp_path_factory.mktemp("claude-api") / "api.db",
                        provider=ClaudeProvider(settings)) as server:
            yield server, replay
        assert not replay.rejected, [str(r[1]) for r in replay.rejected]


@pytest.fixture
async def client(claude_api):
    server, _ = claude_api
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"},
                                 timeout=60) as c:
        yield c


async def new_conversation(client) -> str:
    r = await client.post("/api/conversation", json={})
    assert r.status_code == 201, r.text
    return r.json()["conversation_id"]


async def test_sse_streams_reasoning_unless_turned_off(client):
    cid = await new_conversation(client)
    url = f"/api/conversation/{cid}/message/stream"
    events, _ = await read_sse(client, "POST", url, json={"message": "Revenue trend?"})
    assert "thinking_delta" in [e.type for e in events]
    text = "".join(e.text for e in events if e.type == "text_delta")
    assert SCENARIO_FINAL in text and "The user wants" not in text  # reasoning stays apart
    cid = await new_conversation(client)
    quiet, raws = await read_sse(client, "POST", url + "?thinking=false", json={"message": "Revenue trend?"})
    assert "thinking_delta" not in [e.type for e in quiet] and quiet[-1].success
    assert [e.seq for e in quiet] == sorted(e.seq for e in quiet)


async def test_non_streaming_answer_has_tokens_cost_and_the_chosen_effort(client, claude_api):
    _, replay = claude_api
    cid = await new_conversation(client)
    r = await client.post(f"/api/conversation/{cid}/message",
                          json={"message": "Revenue trend?", "options": {"effort": "low"}})
    assert r.status_code == 200, r.text
    usage = r.json()["usage"]
    assert usage["model"] == "claude-sonnet-5-5" and usage["cost_usd"] > 0
    assert usage["cache_read_input_tokens"] > 0 and usage["output_tokens"] > 0
    assert json.dumps(replay.requests[-1].body["output_config"]) == '{"effort": "low"}'
    bad = await client.post(f"/api/conversation/{cid}/message",
                            json={"message": "Again?", "options": {"effort": "extreme"}})
    assert bad.status_code == 422


async def test_websocket_streams_reasoning_unless_turned_off(client, claude_api):
    import websockets

    from tests.api.test_api_ws import recv_until_complete, ws_url

    server, _ = claude_api
    for query, expect in (({}, True), ({"thinking": "false"}, False)):
        cid = await new_conversation(client)
        async with websockets.connect(ws_url(server, cid, token=TOKEN, **query)) as sock:
            await sock.send(json.dumps({"type": "user_message", "message": "Revenue trend?"}))
            events = await recv_until_complete(sock)
        assert events[-1].success
        assert ("thinking_delta" in [e.type for e in events]) is expect, query
