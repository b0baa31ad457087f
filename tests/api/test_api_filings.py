"""End to end with a real SEC filing and the demo analyst: upload over HTTP, ask, get the values
SOURCES.md lists, as text and as artifacts, over the non-streaming endpoint and SSE."""

from __future__ import annotations

import httpx
import pytest
from httpx_sse import aconnect_sse

from finstream import events as ev
from finstream.api.config import ApiSettings
from finstream.providers.demo import DemoAnalyst
from tests.api.api_support import TOKEN, LiveServer, auth
from tests.support.filings import FILINGS_DIR as FILINGS


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    api = ApiSettings(token=TOKEN, max_upload_bytes=10 << 20, max_request_bytes=20 << 20)
    with LiveServer(tmp_path_factory.mktemp("demo") / "d.db", provider=DemoAnalyst(delay=0), api=api) as server:
        yield server


async def test_apple_companyfacts_revenue_over_http(demo):
    data = (FILINGS / "CIK0000320193.json").read_bytes()
    async with httpx.AsyncClient(base_url=demo.url, headers=auth(), timeout=60) as client:
        r = await client.post("/api/conversation", data={"title": "Apple"},
                              files=[("files", ("CIK0000320193.json", data, "application/json"))])
        assert r.status_code == 201, r.text
        cid = r.json()["conversation_id"]
        body = (await client.post(f"/api/conversation/{cid}/message",
                                  json={"message": "How did revenue change?"})).json()
        assert body["status"] == "complete"
        assert "$391.0B in FY2024" in body["text"]
        chart = next(a for a in body["artifacts"] if a["kind"] == "chart")["data"]["spec"]
        values = dict(zip(chart["x"], chart["series"][0]["values"], strict=True))
        assert values["FY2024"] == 391035000000.0 and values["FY2023"] == 383285000000.0
        # The same answer streamed again from the log over SSE, event for event.
        mid = body["message_id"]
        async with aconnect_sse(client, "GET", f"/api/conversation/{cid}/message/stream?message_id={mid}") as source:
            events = [ev.parse_event(s.data) async for s in source.aiter_sse()]
        text = "".join(e.text for e in events if e.type == "text_delta")
        assert text == body["text"]
        assert [e.type for e in events if e.type.endswith("_ready")] == \
            [f"{a['kind']}_ready" for a in body["artifacts"]]
