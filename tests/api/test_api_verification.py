"""Over HTTP with a real filing uploaded: the non-streaming answer carries each artifact's checks
and the text's checks, SSE delivers the verification event before message_complete, and the
published protocol schema describes both new event types."""

from __future__ import annotations

import httpx
import pytest
from httpx_sse import aconnect_sse

from finstream import events as ev
from finstream.providers.scripted import text_step, tool_step
from finstream.verify.model import NumberCheck
from tests.api.api_support import TOKEN, auth, scripted_server
from tests.support.browser import answered_on_demo_page, needs_chromium
from tests.support.filings import FILINGS_DIR as FILINGS

AAPL_10K = "aapl-10-k-2024-11-01.html"


def steps() -> list:
    return [
        tool_step(("get_financial_data", {"metric": "revenue", "filing": AAPL_10K})),
        tool_step(("create_metric", {"label": "Revenue FY2024", "value": 412.3e9, "unit": "USD",
                                     "period": "FY2024"})),
        text_step("Revenue was $391.0B in FY2024, or $412.3B in FY2024."),
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with scripted_server(tmp_path_factory.mktemp("verify"), steps) as live:
        yield live


async def test_answers_over_http_carry_their_marks(server):
    data = (FILINGS / AAPL_10K).read_bytes()
    async with httpx.AsyncClient(base_url=server.url, headers=auth(), timeout=120) as client:
        r = await client.post("/api/conversation", data={"title": "Apple"},
                              files=[("files", (AAPL_10K, data, "text/html"))])
        assert r.status_code == 201, r.text
        cid = r.json()["conversation_id"]
        body = (await client.post(f"/api/conversation/{cid}/message", json={"message": "Revenue?"})).json()
        assert body["status"] == "complete", body
        (metric,) = [a["data"] for a in body["artifacts"] if a["kind"] == "metric"]
        assert [c["status"] for c in metric["verification"]] == ["unverified"]
        assert "$391.0B" in metric["verification"][0]["reason"]
        assert [(c["text"], c["status"]) for c in body["verification"]] == [
            ("$391.0B", "verified"), ("$412.3B", "unverified"),
        ]
        async with aconnect_sse(client, "GET",
                                f"/api/conversation/{cid}/message/stream?message_id={body['message_id']}") as source:
            events = [ev.parse_event(s.data) async for s in source.aiter_sse()]
        assert [e.type for e in events[-2:]] == ["verification", "message_complete"]
        assert events[-2].checks == [NumberCheck.model_validate(c) for c in body["verification"]]
        history = (await client.get(f"/api/conversation/{cid}")).json()
        answer = next(m for m in history["messages"] if m["message_id"] == body["message_id"])
        assert answer["verification"] == body["verification"]
        schema = (await client.get("/api/protocol/schema")).json()
        assert {"Verification", "Citation", "NumberCheck", "FactRef"} <= set(schema["$defs"])


@pytest.fixture(scope="module")
def page_server(tmp_path_factory):
    with scripted_server(tmp_path_factory.mktemp("verify-page"), steps) as live:
        yield live


@needs_chromium
async def test_the_api_demo_page_shows_the_marks(page_server):
    """The static page renders the unverified tile and the text's unverified number as text."""
    async with answered_on_demo_page(page_server.url, TOKEN, FILINGS / AAPL_10K, "Revenue?") as (page, errors):
        assert (await page.locator("#metrics .metric .value").inner_text()).endswith("⚠")
        marks = await page.locator(".msg.assistant .unverified").all_inner_texts()
        assert len(marks) == 1 and marks[0].startswith("⚠ Unverified $412.3B: no fact equals $412.3B")
        assert await page.locator("#metrics .unverified").count() == 1
        assert errors == []
