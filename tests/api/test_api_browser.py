"""Headless Chromium opens the demo page: EventSource and WebSocket both render the streamed text,
a Plotly chart, a table and a metric. Screenshots go to artifacts/ (gitignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.api_support import TOKEN
from tests.support.browser import launch, needs_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = needs_chromium


@pytest.fixture
async def page():
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await launch(pw)
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        pg = await context.new_page()
        pg.errors = []
        pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
        pg.on("console", lambda msg: pg.errors.append(msg.text) if msg.type == "error" else None)
        yield pg
        await browser.close()


@pytest.mark.parametrize("transport", ["sse", "ws"])
async def test_demo_page_renders_streamed_text_and_artifacts(live, page, transport):
    ARTIFACTS.mkdir(exist_ok=True)
    # The token travels in the fragment, which the browser never sends to the server.
    await page.goto(f"{live.url}/#token={TOKEN}")
    assert await page.input_value("#token") == TOKEN
    assert "token" not in page.url
    await page.select_option("#transport", transport)
    await page.click("#new-conversation")
    await page.wait_for_function(
        "document.getElementById('conversation-id').textContent.length > 0"
    )
    await page.fill("#question", "How did <b>revenue</b> change?")
    await page.click("#ask")
    answer = page.locator(".msg.assistant")
    await answer.filter(has_text="in FY2024.").wait_for(timeout=30_000)
    await page.locator("#charts .js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    await page.locator("#tables table").first.wait_for()
    await page.locator("#metrics .metric").first.wait_for()
    await page.wait_for_function("document.getElementById('status').textContent === 'done'")
    text = await answer.inner_text()
    assert text.startswith("word0 word1 word2") and text.endswith(
        "Revenue rose to $391.0 billion in FY2024."
    )
    # The question is shown as text, not markup.
    assert await page.locator(".msg.user").inner_text() == "How did <b>revenue</b> change?"
    assert await page.locator(".msg.user b").count() == 0
    assert await page.locator("#metrics .metric .value").inner_text() == "$391.04B"
    assert "FY2024" in await page.locator("#tables table").inner_text()
    assert await page.locator("#charts .js-plotly-plot").count() == 1
    await page.screenshot(path=str(ARTIFACTS / f"api_demo_{transport}.png"), full_page=True)
    assert page.errors == []
