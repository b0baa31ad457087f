"""No remote or active content on any Streamlit page: headless Chromium, a sink on loopback.

Hostile text (Markdown images, HTML, links, autolinks, bare URLs, math, directives) is put where
model and filing text goes: a filing's name, section and table titles, an answer stored in the
history, an answer streamed live through the real anthropic SDK (the project's replay server),
chart and table titles, a shared dashboard. Every page must show it as text: the sink sees no
request, and the page has no link or image pointing at it.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from finstream.filings.model import Filing, Section, Table
from finstream.providers.scripted import ScriptedProvider, text_step, tool_step
from finstream.runs import RunManager
from finstream.settings import Settings
from finstream.store import Store
from finstream.tools import default_toolbox
from tests.security.sink import Sink, hostile_markdown
from tests.support.anthropic_replay import ReplayServer
from tests.support.browser import launch, needs_chromium
from tests.support.replay_scripts import text_turn, tool_turn
from tests.ui.test_ui_browser_stream import ask, start_streamlit, stop

pytestmark = needs_chromium


def _artifact_calls(url: str) -> list[tuple[str, dict]]:
    link = f'<a href="{url}/chart-link">click</a>'
    return [
        ("create_chart", {"title": f"Revenue {link} ![c]({url}/chart-image.png)", "chart_type": "bar",
                          "x": [f"FY2024 {link}", "FY2025"],
                          "series": [{"name": f"Revenue <b>{link}</b>", "values": [1.0, 2.0]}],
                          "y_label": f"USD {link}"}),
        ("create_table", {"title": f"Table ![t]({url}/table-image.png) [x]({url}/table-link)",
                          "columns": [{"name": f"Item {url}/col"}, {"name": "Value", "format": "number"}],
                          "rows": [[f"![r]({url}/cell-image.png)", 1.0]],
                          "unit_note": f"<img src='{url}/note.png'>"}),
        ("create_metric", {"label": f"Revenue ![m]({url}/metric-image.png)", "value": 5.0,
                           "unit": "USD"}),
    ]


def _prepopulate(db: Path, url: str) -> tuple[str, str, str]:
    """A conversation with a hostile filing and a stored hostile answer, its share token, and an
    empty conversation for the live answer."""
    store = Store(f"sqlite:///{db}")
    try:
        conv = store.create_conversation(f"Title ![t]({url}/title.png)")
        md = hostile_markdown(url)
        filing = Filing(
            filename=f"10-K ![f]({url}/filename.png).txt", format="text", company=f"[Co]({url}/co)",
            sections=[Section(title=f"Item 7 ![s]({url}/section.png)", text=md)],
            tables=[Table(title=f"Table [t]({url}/ftable)", columns=["a", "b"], rows=[["x", "1"]])],
        )
        store.add_document(conv.id, filing.filename, md.encode(), filing=filing)
        store.add_document(conv.id, f"bad ![b]({url}/bad.png).bin", b"\x00\x01",
                           error=f"bad.bin: ![e]({url}/error.png) unreadable")
        provider = ScriptedProvider([tool_step(*_artifact_calls(url), text=md), text_step(md)])
        manager = RunManager(store, lambda: provider, default_toolbox(), Settings(FINSTREAM_DEMO=True))

        async def run() -> None:
            mid = await manager.start(conv.id, f"Question ![q]({url}/question.png)?")
            result = await manager.wait(mid)
            assert result["status"] == "complete", result
            manager.store._pool.shutdown(wait=True)

        asyncio.run(run())
        token = store.create_share_link(conv.id).token
        return conv.id, token, store.create_conversation("live").id
    finally:
        store.close()


_DOM_CHECK = """(host) => ({
  links: [...document.querySelectorAll('a[href]')].map(a => a.href).filter(h => h.includes(host) || h.startsWith('mailto:')),
  images: [...document.querySelectorAll('img[src], image')].map(i => i.getAttribute('src') || i.getAttribute('href') || '').filter(s => s.includes(host)),
  math: document.querySelectorAll('.katex').length,
  text: document.body.textContent,
})"""


def _check(page, sink: Sink) -> str:  # noqa: ANN001
    found = page.evaluate(_DOM_CHECK, f"127.0.0.1:{sink.port}")
    assert found["links"] == [] and found["images"] == [], (found["links"], found["images"])
    assert found["math"] == 0  # "$x^2$" shown as text, not typeset
    return found["text"]


def _settle(page, selector: str) -> None:  # noqa: ANN001
    page.wait_for_selector(selector)
    time.sleep(1.5)  # let late elements (charts, images) load; the assertions are on what was fetched


@pytest.fixture
def app(tmp_path: Path):
    with Sink() as sink:
        md = hostile_markdown(sink.url)

        def respond(request):  # noqa: ANN001, ANN202
            last = request.messages[-1]["content"] if request.messages else ""
            if isinstance(last, list) and any(b.get("type") == "tool_result" for b in last):
                return text_turn(md)
            calls = [(name, json.dumps(args)) for name, args in _artifact_calls(sink.url)]
            return tool_turn(calls, text=md)

        replay = ReplayServer(responder=respond).start()
        try:
            data = tmp_path / "data"
            data.mkdir()
            cid, token, live = _prepopulate(data / "finstream.db", sink.url)
            proc, url = start_streamlit(data, tmp_path / "streamlit.log", ANTHROPIC_API_KEY="test-key-12345678",
                                        ANTHROPIC_BASE_URL=replay.url)
            try:
                yield sink, url, cid, token, live
            finally:
                stop(proc)
        finally:
            replay.stop()


def test_no_page_fetches_or_links_anything_from_model_or_filing_text(app):
    sink, url, cid, token, live = app
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.set_default_timeout(60_000)

            # The stored answer, its artifacts and the question, from the history.
            page.goto(f"{url}/?c={cid}")
            _settle(page, "[data-testid='stPlotlyChart']")
            text = _check(page, sink)
            assert "md-image.png" in text and "html-image.png" in text  # shown, as text

            # The Documents page: file names, errors, section and table titles, filing text.
            page.goto(f"{url}/documents?c={cid}")
            _settle(page, "[data-testid='stExpander']")
            page.locator("[data-testid='stExpander'] summary").first.click()  # open the filing
            page.wait_for_function("() => document.body.innerText.includes('error.png')")
            time.sleep(1.5)
            text = _check(page, sink)
            assert "filename.png" in text and "error.png" in text

            # The shared dashboard, in a fresh context (a viewer with the link).
            viewer = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            viewer.set_default_timeout(60_000)
            viewer.goto(f"{url}/?share={token}")
            _settle(viewer, "[data-testid='stPlotlyChart']")
            text = _check(viewer, sink)
            assert "table-image.png" in text

            # A live answer through the real SDK: streamed text, chart, table and metric.
            page.goto(f"{url}/?c={live}")
            page.wait_for_selector("[data-testid='stChatInput'] textarea:not([disabled])")
            ask(page, "What was revenue?")
            # Checked while it streams and after: every snapshot inert, until the whole answer
            # with its chart and metric is on the page (a bounded poll, not a timed assertion).
            for _ in range(240):
                text = _check(page, sink)
                done = page.locator("[data-testid='stChatInput'] textarea:not([disabled])").count()
                if ("second-image.png" in text and "bare-url" in text and done
                        and page.locator("[data-testid='stMetric']").count()
                        and page.locator("[data-testid='stPlotlyChart']").count()):
                    break
                time.sleep(0.5)
            else:
                raise AssertionError("the live answer did not finish on the page")
            _settle(page, "[data-testid='stPlotlyChart']")
            text = _check(page, sink)
            assert "bare-url" in text and "autolink" in text
            # Plotly drew the chart's link markup as text, not as an SVG link.
            assert page.locator("[data-testid='stPlotlyChart'] a").count() == 0
        finally:
            browser.close()
    assert sink.hits == []  # nothing was fetched from the sink by any page
