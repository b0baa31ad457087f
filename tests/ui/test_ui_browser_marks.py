"""The marks in a real browser: an answer whose model mistyped a tile and a number of its text,
logged by a real run, opened in headless Chromium from ``streamlit run``. The tile's value shows
the warning sign and the text's number sits on a visibly red background, with its note below."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from finstream.filings.ingest import ingest
from finstream.providers.scripted import ScriptedProvider, text_step, tool_step
from finstream.runs import RunManager
from finstream.settings import Settings
from finstream.store import Store
from finstream.tools import default_toolbox
from tests.support.browser import launch, needs_chromium
from tests.support.filings import FILINGS_DIR
from tests.ui.test_ui_browser_stream import SHOTS, start_streamlit, stop

pytestmark = needs_chromium
AAPL_10K = "aapl-10-k-2024-11-01.html"
ANSWER = "Revenue was $391.0B in FY2024. Net income was $412.3B in FY2024."


def seed(data_dir: Path) -> str:
    """One answered conversation in the app's own SQLite file, written by a real run."""
    path = FILINGS_DIR / AAPL_10K
    if not path.is_file():
        pytest.skip(f"real filings not found at {FILINGS_DIR}")
    settings = Settings(FINSTREAM_DATA_DIR=data_dir, FINSTREAM_DEMO=True, DATABASE_URL=None)  # as the app: SQLite
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db_url)
    conv = store.create_conversation("Apple")
    store.add_document(conv.id, AAPL_10K, b"<html/>", filing=ingest(AAPL_10K, path.read_bytes()))
    provider = ScriptedProvider([
        tool_step(("get_financial_data", {"metric": "revenue", "filing": AAPL_10K})),
        tool_step(("create_metric", {"label": "Revenue FY2024", "value": 412.3e9, "unit": "USD",
                                     "period": "FY2024"})),
        text_step(ANSWER),
    ])
    manager = RunManager(store, lambda: provider, default_toolbox(), settings)

    async def run() -> None:
        mid = await manager.start(conv.id, "How did revenue do?")
        await manager.wait(mid)

    asyncio.run(run())
    store.close()
    return conv.id


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("ui-marks")
    conversation = seed(tmp / "data")
    proc, url = start_streamlit(tmp / "data", tmp / "streamlit.log")
    try:
        yield url, conversation
    finally:
        stop(proc)


MARK_JS = """() => {
  const spans = [...document.querySelectorAll("[data-testid='stChatMessage'] span")]
    .filter((s) => s.textContent.includes("412.3B⚠1") && !s.querySelector("span"));
  if (!spans.length) return null;
  let el = spans[0];
  while (el && getComputedStyle(el).backgroundColor === "rgba(0, 0, 0, 0)") el = el.parentElement;
  return el ? getComputedStyle(el).backgroundColor : null;
}"""


def test_unverified_numbers_are_visibly_marked(app):
    from playwright.sync_api import sync_playwright

    url, conversation = app
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/?c={conversation}")
            page.wait_for_selector("[data-testid='stMetricValue']")
            values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
            assert [v.strip() for v in values] == ["$412.3B ⚠"]
            deadline = time.monotonic() + 30
            color = None
            while color is None and time.monotonic() < deadline:
                color = page.evaluate(MARK_JS)
                time.sleep(0.2)
            assert color is not None, "the unverified number is not marked"
            red, green, blue = (float(x) for x in color[color.index("(") + 1 :].split(",")[:3])
            assert red > green and red > blue  # a red background, not the page's own
            body = page.inner_text("body").replace("\u2060", "")  # invisible word joiners
            assert "[1] $412.3B: no fact equals $412.3B" in body and "FY2024 is $93.7B" in body
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / "ui-verification-marks.png"), full_page=True)
        finally:
            browser.close()
