"""Footnotes in headless Chromium, end to end: `streamlit run` with Claude pointed at the strict
replay (script "cited": search_filing, then an answer citing the passages the server received
as search_result blocks). The answer shows [n] markers and linked notes; a click opens the
Documents page with the passage highlighted; after a reload the footnotes are still there."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from finstream.filings.ingest import ingest
from finstream.settings import Settings
from finstream.store import Store
from tests.support.browser import needs_chromium
from tests.support.filings import FILINGS_DIR
from tests.support.replay_citations import CITED_CLAIM, CITED_END, CITED_INTRO
from tests.ui.test_ui_browser_stream import (  # noqa: F401  (fixtures)
    SHOTS,
    answer_text,
    app_on_replay,
    ask,
    browser,
    page,
    streaming,
)

pytestmark = needs_chromium
BUCKLE = "BuckleInc.8-K.EX99.1.html"

HIGHLIGHT_JS = """() => {
  const box = document.querySelector(".st-key-cited-passage");
  if (!box) return null;
  const spans = [...box.querySelectorAll("[data-testid='stMarkdownContainer'] span")].filter((s) =>
    !s.querySelector("span") && s.textContent.includes("Net sales")
    && getComputedStyle(s).backgroundColor !== "rgba(0, 0, 0, 0)");
  return spans.length ? [getComputedStyle(spans[0]).backgroundColor, spans[0].textContent] : null;
}"""


def seed(data_dir: Path) -> str:
    path = FILINGS_DIR / BUCKLE
    if not path.is_file():
        pytest.skip(f"real filings not found at {FILINGS_DIR}")
    settings = Settings(FINSTREAM_DATA_DIR=data_dir, DATABASE_URL=None)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db_url)
    conv = store.create_conversation("Buckle")
    store.add_document(conv.id, BUCKLE, path.read_bytes(), filing=ingest(BUCKLE, path.read_bytes()))
    store.close()
    return conv.id


@pytest.fixture
def cited_app(tmp_path: Path) -> Iterator[tuple[str, str]]:
    conversation = seed(tmp_path / "data")
    with app_on_replay(tmp_path, "cited", 0.01) as url:
        yield url, conversation


def footnotes(pg) -> list[str]:  # noqa: ANN001
    """The footnote links' texts (their icon's ligature name dropped)."""
    texts = [t.replace("\u2060", "").replace("format_quote", "").strip()
             for t in pg.locator("[data-testid='stPageLink'] a").all_inner_texts()]
    return [t for t in texts if re.match(r"\[\d+\] ", t)]


def test_a_footnote_opens_the_documents_page_at_the_passage(cited_app, page):  # noqa: ANN001, F811
    url, conversation = cited_app
    page.goto(f"{url}/?c={conversation}")
    page.wait_for_selector("[data-testid='stChatInput'] textarea:not([disabled])")
    ask(page, "Why did Buckle's sales fall?")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (streaming(page) or len(footnotes(page)) < 2):
        time.sleep(0.2)
    notes = footnotes(page)
    assert len(notes) == 2, notes
    assert all(BUCKLE in n for n in notes)
    text = answer_text(page)
    assert text.startswith(CITED_INTRO)
    # The markers follow the sentences whose cited text they mark.
    assert (CITED_CLAIM.strip() + CITED_END).rstrip(".") in text.replace("[1]", "")
    assert "[1]" in text and "[2]" in text and text.index("[1]") > text.index(CITED_INTRO)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "ui-citations-answer.png"), full_page=True)

    page.locator("[data-testid='stPageLink'] a").filter(has_text="[1]").first.click()
    page.wait_for_function("() => location.pathname.endsWith('/documents')")
    page.wait_for_selector(".st-key-cited-passage")
    found = None
    deadline = time.monotonic() + 30
    while found is None and time.monotonic() < deadline:
        found = page.evaluate(HIGHLIGHT_JS)
        time.sleep(0.2)
    assert found is not None, "the cited passage is not highlighted"
    color, highlighted = found
    red, green, blue = (float(x) for x in re.findall(r"[\d.]+", color)[:3])
    assert red > blue and green > blue  # an orange/yellow highlight
    assert "Net sales" in highlighted and "decreased" in highlighted
    page.screenshot(path=str(SHOTS / "ui-citations-documents.png"), full_page=True)

    page.goto(f"{url}/?c={conversation}")  # a reload: the footnotes come from the event log
    page.wait_for_selector("[data-testid='stChatInput'] textarea")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(footnotes(page)) < 2:
        time.sleep(0.2)
    assert footnotes(page) == notes
