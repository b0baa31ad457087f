"""The API's demo page in headless Chromium: a streamed answer and chart full of links and images
pointing at a loopback sink render as text (Plotly's pseudo-HTML included), under a strict
Content-Security-Policy; nothing reaches the sink."""

from __future__ import annotations

import httpx
import pytest

from finstream.providers.scripted import ScriptedProvider, text_step, tool_step
from tests.api.api_support import TOKEN, LiveServer
from tests.security.sink import Sink, hostile_markdown
from tests.support.browser import launch, needs_chromium

pytestmark = needs_chromium


@pytest.fixture
def sink():
    with Sink() as s:
        yield s


async def test_demo_page_draws_no_link_or_image_from_answer_or_chart_text(tmp_path, sink):
    from playwright.async_api import async_playwright

    url = sink.url
    link = f'<a href="{url}/plotly-link">click</a>'
    chart = {"title": f"Revenue {link}", "chart_type": "bar", "x": [f"FY24 {link}", "FY25"],
             "series": [{"name": f"<b>bold</b> {link}", "values": [1.0, 2.0]}], "y_label": link}
    table = {"title": f"<img src='{url}/table.png'>", "columns": [{"name": "a"}], "rows": [[link]]}
    provider = ScriptedProvider([
        tool_step(("create_chart", chart), ("create_table", table), text=hostile_markdown(url)),
        text_step(f"Done. <img src='{url}/final.png'>"),
    ])
    with LiveServer(tmp_path / "api.db", provider=provider) as live:
        r = httpx.get(f"{live.url}/")
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "img-src 'self' data: blob:" in csp
        api = httpx.get(f"{live.url}/api/protocol/schema", headers={"Authorization": f"Bearer {TOKEN}"})
        assert api.headers["content-security-policy"].startswith("default-src 'none'")
        async with async_playwright() as pw:
            browser = await launch(pw)
            try:
                page = await browser.new_page()
                await page.goto(f"{live.url}/#token={TOKEN}")
                await page.click("#new-conversation")
                # (locator waits: the page's CSP forbids the eval that polled predicates need)
                await page.locator("#conversation-id:not(:empty)").wait_for()
                await page.fill("#question", "Revenue?")
                await page.click("#ask")
                await page.locator("#status:text-is('done')").wait_for(timeout=30_000)
                await page.locator("#charts .js-plotly-plot .main-svg").first.wait_for()
                await page.wait_for_timeout(1000)
                found = await page.evaluate("""(host) => ({
                    links: [...document.querySelectorAll('a')].map(a => a.getAttribute('href') || a.getAttribute('xlink:href') || '').filter(h => h.includes(host)),
                    images: [...document.querySelectorAll('img, image')].map(i => i.getAttribute('src') || i.getAttribute('href') || '').filter(s => s.includes(host)),
                    svgLinks: document.querySelectorAll('#charts a').length,
                    bold: document.querySelectorAll('#charts b, .msg b').length,
                    chart: document.querySelector('#charts').textContent,
                })""", f"127.0.0.1:{sink.port}")
            finally:
                await browser.close()
    assert found["links"] == [] and found["images"] == [] and found["svgLinks"] == 0, found
    assert "<a href" in found["chart"]  # the markup is there, drawn as text
    assert sink.hits == []
    provider.assert_consumed()
