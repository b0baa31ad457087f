"""The API demo page falls back like finstream.client: behind a proxy that refuses event streams
(a 502 page instead of text/event-stream), the page still shows the whole answer, its text and
its chart, table and metric, from the non-streaming endpoint. Headless Debian Chromium."""

from __future__ import annotations

import httpx
import pytest

from tests.api.api_support import TOKEN, ChartAnalyst, LiveServer
from tests.client.fault_proxy import FaultProxy
from tests.support.browser import launch, needs_chromium

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with LiveServer(tmp_path_factory.mktemp("demo-fallback") / "api.db",
                    provider=ChartAnalyst(words=30, delay=0.002)) as s:
        yield s


async def test_demo_page_shows_the_whole_answer_when_the_stream_is_refused(server):
    from playwright.async_api import async_playwright

    with FaultProxy(server.port) as proxy:
        proxy.refuse_streams = True
        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 900})
                await page.goto(f"{proxy.url}/#token={TOKEN}")
                await page.click("#new-conversation")
                await page.locator("#conversation-id", has_text="conversation ").wait_for()
                await page.fill("#question", "Revenue trend?")
                await page.click("#ask")
                await page.locator("#status", has_text="done (streaming unavailable").wait_for(
                    timeout=60_000)
                cid = (await page.locator("#conversation-id").inner_text()).split()[-1]
                shown = await page.locator(".msg.assistant").inner_text()
                await page.locator("#charts .js-plotly-plot .main-svg").first.wait_for()
                assert await page.locator("#tables table").count() == 1
                assert await page.locator("#metrics .metric .value").inner_text() == "$391.04B"
            finally:
                await browser.close()
        assert proxy.stream_requests >= 1  # it did try to stream first
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        stored = c.get(f"/api/conversation/{cid}").json()["messages"][-1]
    assert stored["status"] == "complete" and shown == stored["text"]
