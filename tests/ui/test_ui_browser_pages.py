"""The finished-product checks in headless Chromium against a real ``streamlit run``: two real
10-Ks uploaded and compared, the "Chart (HTML)" download opened offline and drawn, the panel
filter during a stream, the theme switch, and screenshots of every page at desktop and phone
width (refreshed in docs/screenshots/)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.browser import needs_chromium
from tests.support.filings import FILINGS_DIR as FILINGS
from tests.ui.test_ui_browser_stream import (  # noqa: F401  (fixtures)
    ask,
    browser,
    demo_app,
    open_new_conversation,
    snapshots_until_done,
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
pytestmark = needs_chromium
APPLE = FILINGS / "aapl-10-k-2024-11-01.html"
CRM = FILINGS / "corpus" / "crm-10-k-2025-01-31.html"


@pytest.fixture
def wide(browser):  # noqa: ANN001, ANN201, F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(90_000)
    yield pg
    context.close()


def upload_and_ask(page, files: list[Path], question: str) -> None:  # noqa: ANN001
    page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files([str(f) for f in files])
    page.wait_for_selector("[data-testid='stChatInputFileUploadButton']")
    time.sleep(1.0)  # the files attach to the input before it is sent
    ask(page, question)
    snapshots_until_done(page, limit=180)
    page.wait_for_selector("[data-testid='stPlotlyChart']")


def test_two_companies_compared_and_the_chart_download_opens_offline(demo_app, wide, tmp_path):  # noqa: ANN001, F811
    page = wide
    open_new_conversation(page, demo_app)
    upload_and_ask(page, [APPLE, CRM], "Compare Apple and Salesforce revenue")
    time.sleep(1.5)
    body = page.inner_text("body")
    assert "Apple Inc." in body and "Salesforce, Inc." in body
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "analysis-compare.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("button", name="Chart (HTML)").first.click()
    download = info.value
    name = download.suggested_filename
    assert name.endswith("-chart.html") and "apple-inc" in name and "salesforce" in name
    path = tmp_path / name
    download.save_as(str(path))
    # Open it with every network request refused: plotly.js is inline, so it must still draw.
    chart = page.context.new_page()
    fetched: list[str] = []

    def block(route) -> None:  # noqa: ANN001
        if not route.request.url.startswith("file:"):
            fetched.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    chart.route("**/*", block)
    chart.goto(path.as_uri())
    # Two companies, several fiscal years: wait until Plotly has drawn them all (bounded).
    chart.wait_for_function("() => document.querySelectorAll('.main-svg .bars .point path').length >= 6",
                            timeout=30_000)
    ticks = chart.locator(".ytick text").all_text_contents()
    assert "$0" in ticks and any(t.endswith("B") for t in ticks)  # from zero, in money
    assert fetched == []
    chart.screenshot(path=str(SCREENSHOTS / "chart-download.png"))
    chart.close()


@pytest.mark.parametrize(("width", "suffix"), [(1400, ""), (390, "-phone")])
def test_screenshots_of_every_page(demo_app, browser, width, suffix):  # noqa: ANN001, F811
    context = browser.new_context(viewport={"width": width, "height": 1000 if width > 600 else 844})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        open_new_conversation(page, demo_app)
        ask(page, "What is the revenue trend?")
        snapshots_until_done(page, limit=180)
        time.sleep(1.0)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 2, f"the page scrolls sideways at {width}px ({overflow}px)"
        page.screenshot(path=str(SCREENSHOTS / f"analysis{suffix}.png"), full_page=True)
        base = page.url.split("?", 1)[0].rstrip("/")
        query = page.url.split("?", 1)[1]
        for name in ("documents", "dashboard", "history"):
            page.goto(f"{base}/{name}?{query}")
            page.wait_for_selector("h1")
            time.sleep(1.5)
            page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("kind", ["line", "bar", "grouped_bar", "stacked_bar", "area", "pie", "scatter", "waterfall"])
def test_every_chart_kind_exported_as_html_draws_offline(browser, tmp_path, kind):  # noqa: ANN001, F811
    from finstream.tools.base import ToolContext
    from finstream.tools.outputs import ChartInput, create_chart
    from finstream.ui.exports import chart_html

    series = [{"name": "Revenue", "values": [383285e6, 391035e6, 416161e6],
               "sources": [{"document": "aapl-10-k-2024-11-01.html", "period": p} for p in ("FY2023", "FY2024", "FY2025")]}]
    if kind not in ("pie",):
        series.append({"name": "Net income", "values": [96995e6, 93736e6, 112010e6]})
    spec = ChartInput(title="Apple Inc.: revenue", chart_type=kind, x=["FY2023", "FY2024", "FY2025"],
                      series=series, unit="USD")
    data = create_chart(spec, ToolContext()).artifact
    path = tmp_path / f"{kind}.html"
    path.write_bytes(chart_html(data))
    page = browser.new_page()
    try:
        fetched: list[str] = []
        page.route("**/*", lambda r: (fetched.append(r.request.url), r.abort()) if not r.request.url.startswith("file:")
                   else r.continue_())
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_selector(".main-svg", timeout=30_000)
        drawn = page.locator(".main-svg .trace, .main-svg .slice").count()
        assert drawn >= 1 and not errors and fetched == []
        if kind != "pie":
            ticks = page.locator(".ytick text").all_text_contents()
            assert any(t.startswith("$") and t.endswith("B") for t in ticks), ticks
        # Hovering a point prints formatted money with its source, never 3.91e+11.
        point = page.locator(".main-svg .point, .main-svg .slice").nth(1)
        box = point.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + max(box["height"] / 2, 1))
        page.wait_for_selector(".hoverlayer .hovertext", timeout=10_000)
        hover = " ".join(page.locator(".hoverlayer .hovertext").all_text_contents())
        assert "$391.0B" in hover or "$93.7B" in hover, hover
        assert "e+1" not in hover
    finally:
        page.close()
