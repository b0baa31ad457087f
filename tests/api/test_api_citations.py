"""Citations over HTTP (real uvicorn, a real upload, a scripted model citing what search_filing
found): SSE delivers each citation before the text it supports, the non-streaming answer and the
conversation's history carry them, and the API's demo page shows them as footnotes, as text."""

from __future__ import annotations

import httpx
import pytest
from httpx_sse import aconnect_sse

from finstream import events as ev
from finstream.providers.scripted import tool_step
from tests.api.api_support import TOKEN, auth, scripted_server
from tests.support.browser import answered_on_demo_page, needs_chromium
from tests.ui.test_ui_citations import CLAIM, HOSTILE, HOSTILE_TEXT, INTRO, cited_answer

SEARCH = ("search_filing", {"query": "net sales decreased percent", "limit": 2})


def steps() -> list:
    return [tool_step(SEARCH), cited_answer]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with scripted_server(tmp_path_factory.mktemp("cite"), steps) as live:
        yield live


async def upload_hostile(client) -> str:
    r = await client.post("/api/conversation", data={"title": "Cited"},
                          files=[("files", (HOSTILE, HOSTILE_TEXT.encode(), "text/plain"))])
    assert r.status_code == 201, r.text
    return r.json()["conversation_id"]


async def test_citations_in_the_stream_the_answer_and_the_history(server):
    async with httpx.AsyncClient(base_url=server.url, headers=auth(), timeout=120) as client:
        cid = await upload_hostile(client)
        body = (await client.post(f"/api/conversation/{cid}/message", json={"message": "Why?"})).json()
        assert body["status"] == "complete", body
        assert body["text"] == INTRO + CLAIM
        (cited,) = body["citations"]
        assert cited["filing"] == HOSTILE and cited["text_offset"] == len(INTRO)
        assert cited["quoted_text"].startswith("Net sales decreased 3.2 percent")
        async with aconnect_sse(client, "GET",
                                f"/api/conversation/{cid}/message/stream?message_id={body['message_id']}") as source:
            frames = [(s.event, ev.parse_event(s.data)) async for s in source.aiter_sse()]
        (citation,) = [e for name, e in frames if name == "citation"]  # a named SSE event
        assert citation.model_dump(mode="json") == cited
        texts = [e for _n, e in frames if e.type == "text_delta"]
        after = [e for e in texts if e.seq > citation.seq]
        assert "".join(e.text for e in after) == CLAIM  # it came before the text it supports
        history = (await client.get(f"/api/conversation/{cid}")).json()
        answer = next(m for m in history["messages"] if m["message_id"] == body["message_id"])
        assert answer["citations"] == body["citations"]
        question = next(m for m in history["messages"] if m["role"] == "user")
        assert question["citations"] == []


@pytest.fixture(scope="module")
def page_server(tmp_path_factory):
    with scripted_server(tmp_path_factory.mktemp("cite-page"), steps) as live:
        yield live


@needs_chromium
async def test_the_api_demo_page_shows_footnotes_as_text(page_server, tmp_path):
    hostile = tmp_path / HOSTILE
    hostile.write_text(HOSTILE_TEXT)
    async with answered_on_demo_page(page_server.url, TOKEN, hostile, "Why did sales fall?") as (page, errors):
        answer = await page.locator(".msg.assistant").last.inner_text()
        assert answer.startswith(INTRO) and "its own words.[1]" in answer
        (note,) = await page.locator(".footnotes li").all_inner_texts()
        assert note.startswith(f"{HOSTILE} · ") and "<img src=x onerror=alert(1)>" in note
        assert "[click here](https://evil.example/x)" in note  # as text, not a link
        assert await page.locator(".footnotes img, .footnotes a, .msg img").count() == 0
        assert errors == []
