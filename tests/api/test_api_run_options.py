"""Per-run options over every message endpoint: ``"options": {"model", "max_tokens", "max_rounds"}``
reach the model call; invalid values are rejected naming the field, and nothing is started."""

from __future__ import annotations

import json

import pytest
import websockets

from finstream.providers.base import ProviderRequest
from tests.api.api_support import TOKEN, ChartAnalyst, LiveServer
from tests.api.test_api_sse import new_conversation, read_sse
from tests.api.test_api_ws import recv_until_complete, ws_url


class RecordingAnalyst(ChartAnalyst):
    """ChartAnalyst that keeps every request it is sent (the model and limits a run used)."""

    def __init__(self) -> None:
        super().__init__(words=4)
        self.requests: list[ProviderRequest] = []

    async def stream(self, request: ProviderRequest):
        self.requests.append(request)
        async for part in super().stream(request):
            yield part


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    """Overrides conftest's: its ``client`` fixture then talks to this server."""
    with LiveServer(tmp_path_factory.mktemp("opts") / "api.db", provider=RecordingAnalyst()) as server:
        yield server


async def test_options_reach_the_model_call_and_limit_rounds(live, client):
    cid = await new_conversation(client)
    live.provider.requests.clear()
    body = {"message": "Revenue?", "options": {"model": "claude-haiku-4-5", "max_tokens": 900}}
    r = await client.post(f"/api/conversation/{cid}/message", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "complete"
    assert [(q.model, q.max_tokens) for q in live.provider.requests] == [("claude-haiku-4-5", 900)] * 2

    # One round only: the analyst's tool round uses it up, so the answer stops at the limit.
    live.provider.requests.clear()
    r = await client.post(f"/api/conversation/{cid}/message",
                          json={"message": "Again?", "options": {"max_rounds": 1}})
    assert r.json()["stop_reason"] == "max_rounds", r.text
    assert r.json()["error"]["code"] == "max_rounds"
    # Omitted fields are the server's settings.
    assert [(q.model, q.max_tokens) for q in live.provider.requests] == [(None, 32000)]


async def test_options_on_the_sse_stream(live, client):
    cid = await new_conversation(client)
    live.provider.requests.clear()
    events, _ = await read_sse(client, "POST", f"/api/conversation/{cid}/message/stream",
                               json={"message": "Revenue?", "options": {"max_rounds": 1, "model": "m-1"}})
    assert events[-1].type == "message_complete" and events[-1].stop_reason == "max_rounds"
    assert [q.model for q in live.provider.requests] == ["m-1"]


@pytest.mark.parametrize("options, field", [
    ({"max_rounds": 0}, "options.max_rounds"),
    ({"max_tokens": "lots"}, "options.max_tokens"),
    ({"model": ""}, "options.model"),
    ({"model": "a b<script>"}, "options.model"),
    ({"temperature": 1}, "options.temperature"),
])
async def test_invalid_options_are_422_naming_the_field_and_start_nothing(client, options, field):
    cid = await new_conversation(client)
    for path in ("message", "message/stream"):
        r = await client.post(f"/api/conversation/{cid}/{path}",
                              json={"message": "Revenue?", "options": options})
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "invalid_request" and err["message"].startswith(field), err
    history = (await client.get(f"/api/conversation/{cid}")).json()
    assert history["messages"] == []


async def test_options_on_the_websocket(live, client):
    cid = await new_conversation(client)
    live.provider.requests.clear()
    async with websockets.connect(ws_url(live, cid, token=TOKEN)) as sock:
        await sock.send(json.dumps({"type": "user_message", "message": "q",
                                    "options": {"max_rounds": 50}}))
        notice = json.loads(await sock.recv())
        assert notice["type"] == "error" and notice["code"] == "invalid_request"
        assert notice["message"].startswith("options.max_rounds"), notice
        await sock.send(json.dumps({"type": "user_message", "message": "q",
                                    "options": {"model": "claude-opus-5-5", "max_tokens": 2048}}))
        events = await recv_until_complete(sock)
    assert events[-1].success
    assert {(q.model, q.max_tokens) for q in live.provider.requests} == {("claude-opus-5-5", 2048)}
