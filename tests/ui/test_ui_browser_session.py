"""What only a browser shows about a stream in progress, on a real ``streamlit run`` with a slow
demo analyst: the status line follows the stream, a question typed meanwhile is queued beside the
input and then asked, the panel filter hides old charts at once instead of greying them; and the
theme switch and the History page's rename/delete acting on the conversation chosen."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.browser import needs_chromium
from tests.ui.test_ui_browser_stream import (  # noqa: F401  (fixtures)
    ask,
    browser,
    open_new_conversation,
    snapshots_until_done,
    start_streamlit,
    stop,
    streaming,
)

pytestmark = needs_chromium
STATUS_LABELS = """() => [...document.querySelectorAll("[data-testid='stExpander'] summary, [data-testid='stStatusWidget']")]
  .map((e) => e.innerText.trim())"""


DATA: dict[str, object] = {}


@pytest.fixture(scope="module")
def slow_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ui-session")
    DATA["dir"] = tmp / "data"
    proc, url = start_streamlit(tmp / "data", tmp / "streamlit.log", FINSTREAM_DEMO_DELAY="0.12")
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201, F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    yield pg
    context.close()


def wait_for(predicate, limit: float = 60, step: float = 0.1):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"not reached within {limit} s")


def test_status_line_follows_the_stream_and_a_typed_question_is_queued(slow_app, page):  # noqa: ANN001
    open_new_conversation(page, slow_app)
    ask(page, "What is the revenue trend?")
    # Once text streams after the tools, the status line says so (not the last tool's label).
    wait_for(lambda: streaming(page) and any("Writing the answer" in s for s in page.evaluate(STATUS_LABELS)))
    ask(page, "How much cash does Apple have?")
    note = wait_for(lambda: page.get_by_text("Queued, asked after the current answer").count() > 0, limit=20)
    assert note
    # The queued question is asked when the answer ends, and answered.
    wait_for(lambda: page.locator("[data-testid='stChatMessage']").filter(
        has_text="How much cash does Apple have?").count() > 0, limit=120)
    snapshots_until_done(page, limit=180)
    wait_for(lambda: "marketable securities" in page.inner_text("body").lower(), limit=60)
    assert page.get_by_text("Queued, asked").count() == 0


def test_panel_filter_hides_old_charts_during_a_stream_instead_of_greying_them(slow_app, page):  # noqa: ANN001
    open_new_conversation(page, slow_app)
    ask(page, "What is the revenue trend?")
    snapshots_until_done(page, limit=180)
    page.wait_for_selector("[data-testid='stPlotlyChart']")
    ask(page, "What are the margins?")
    wait_for(lambda: streaming(page))
    page.locator("[data-testid='stButtonGroup']").get_by_text("Tables", exact=True).click()
    time.sleep(2.0)
    assert streaming(page), "the answer should still be streaming for this check"
    stale = page.evaluate("""() => [...document.querySelectorAll("[data-stale='true']")]
        .filter((e) => e.querySelector("[data-testid='stPlotlyChart'], [data-testid='stMetric']")).length""")
    charts = page.locator("[data-testid='stPlotlyChart']").count()
    assert stale == 0 and charts == 0, f"{stale} greyed, {charts} charts shown under 'Tables'"
    assert page.locator("[data-testid='stDataFrame']").count() >= 1
    snapshots_until_done(page, limit=180)


def test_theme_switch_in_the_settings_menu(slow_app, page):  # noqa: ANN001
    open_new_conversation(page, slow_app)
    light = page.evaluate("() => getComputedStyle(document.querySelector('.stApp')).backgroundColor")
    page.get_by_test_id("stMainMenu").click()  # the ⋮ menu: System / Light / Dark
    page.get_by_test_id("stMainMenuItem-theme-Dark").click()
    dark = wait_for(lambda: (c := page.evaluate(
        "() => getComputedStyle(document.querySelector('.stApp')).backgroundColor")) != light and c)
    assert light == "rgb(255, 255, 255)" and dark == "rgb(14, 22, 33)"  # [theme.dark] backgroundColor
    page.reload()  # the choice is the browser's: it stays after a reload
    page.wait_for_selector("[data-testid='stChatInput'] textarea")
    assert page.evaluate("() => getComputedStyle(document.querySelector('.stApp')).backgroundColor") == dark


def test_history_rename_and_delete_act_on_the_conversation_chosen(slow_app, page):  # noqa: ANN001
    from finstream.settings import Settings
    from finstream.store import open_store

    # The server's own SQLite file: three conversations, written as another process would.
    store = open_store(Settings(FINSTREAM_DATA_DIR=str(DATA["dir"])))
    ids = {t: store.create_conversation(t).id for t in ("Alpha review", "Beta review", "Gamma review")}
    store.close()
    page.goto(f"{slow_app}/history?c={ids['Alpha review']}")
    page.wait_for_selector("h1")
    page.wait_for_selector("text=Gamma review")
    def card(title: str):  # noqa: ANN202
        return page.locator("[data-testid='stVerticalBlock']").filter(has_text=title).filter(
            has=page.get_by_role("button", name="Rename")).last

    card("Beta review").get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Delete for good").click()
    wait_for(lambda: page.get_by_text("Conversation deleted.").count() > 0)
    body = page.inner_text("body")
    assert "Beta review" not in body and "Alpha review" in body and "Gamma review" in body
    time.sleep(1.0)
    assert page.get_by_role("button", name="Delete for good").count() == 0  # no popover reopened
    card("Gamma review").get_by_role("button", name="Rename").click()
    box = page.get_by_label("New title")
    box.fill("Gamma, renamed")
    box.press("Enter")
    page.get_by_role("button", name="Save").click()
    wait_for(lambda: "Gamma, renamed" in page.inner_text("body"))
    body = page.inner_text("body")
    assert "Alpha review" in body and "Gamma review" not in body.replace("Gamma, renamed", "")
