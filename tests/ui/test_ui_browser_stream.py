"""The analysis page in headless Chromium against a real ``streamlit run`` on 127.0.0.1.

What AppTest cannot see: text appearing progressively, a widget click mid-stream (a rerun kills
the script, not the run), a reload mid-stream (a new session re-attaches from the log), and the
whole path through the real anthropic SDK (against the project's replay server). Screenshots go
to artifacts/ (gitignored). Waits are bounded polls, never timed assertions.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.browser import launch, needs_chromium
from tests.support.waiting import wait_http, wait_port

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts"
pytestmark = needs_chromium

ASSISTANT = (
    "[data-testid='stChatMessage']:has([data-testid='stIconMaterial']:text-is('query_stats'))"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(data_dir: Path, log: Path, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "DATABASE_URL")
    }
    environ.update({"FINSTREAM_DATA_DIR": str(data_dir), "FINSTREAM_DEMO_DELAY": "0.04", **env})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=environ,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/_stcore/health", proc)
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("ui-browser")
    proc, url = start_streamlit(tmp / "data", tmp / "streamlit.log")
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch(p)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def open_new_conversation(page, url: str) -> None:  # noqa: ANN001
    page.goto(url)
    page.wait_for_selector("[data-testid='stChatInput'] textarea")
    page.wait_for_function("() => new URLSearchParams(location.search).get('c')")
    before = page.evaluate("() => new URLSearchParams(location.search).get('c')")
    page.get_by_role("button", name="New").click()
    page.wait_for_function(
        "(old) => { const c = new URLSearchParams(location.search).get('c'); return c && c !== old; }",
        arg=before,
    )
    page.wait_for_selector("[data-testid='stChatInput'] textarea:not([disabled])")
    time.sleep(0.5)  # let the rerun that the New button started settle


def ask(page, question: str) -> None:  # noqa: ANN001
    box = page.locator("[data-testid='stChatInput'] textarea")
    box.fill(question)
    box.press("Enter")


ANSWER_JS = """() => {
  const answers = [...document.querySelectorAll("[data-testid='stChatMessage']")].filter((m) =>
    [...m.querySelectorAll("[data-testid='stIconMaterial']")].some((i) => i.textContent.trim() === "query_stats"));
  if (!answers.length) return "";
  return [...answers[answers.length - 1].querySelectorAll("[data-testid='stMarkdownContainer']")]
    .filter((e) => !e.closest("[data-testid='stButton']") && !e.closest("[data-testid='stExpander']"))
    .map((e) => e.innerText).join(" ");
}"""


def answer_text(page) -> str:  # noqa: ANN001
    """The last answer's text as a reader sees it, read in one go (the page may redraw between
    two reads); without the invisible word joiners that keep URLs from being linkified."""
    return page.evaluate(ANSWER_JS).replace("▌", "").replace("\u2060", "").strip()


def streaming(page) -> bool:  # noqa: ANN001
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").count() > 0


def snapshots_until_done(page, limit: float = 90) -> list[str]:  # noqa: ANN001
    """Distinct texts of the last answer, polled until the Stop button is gone."""
    seen: list[str] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        text = answer_text(page)
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        if seen and not streaming(page):
            time.sleep(0.5)
            if not streaming(page):
                final = answer_text(page)
                if final != seen[-1]:
                    seen.append(final)
                return seen
        time.sleep(0.05)
    raise AssertionError(f"the answer did not finish; last text: {seen[-1:]!r}")


def wait_streaming_with_text(page, min_chars: int = 20) -> str:  # noqa: ANN001
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = answer_text(page)
        if streaming(page) and len(text) >= min_chars:
            return text
        time.sleep(0.05)
    raise AssertionError("no streaming text appeared")


def test_text_appears_progressively_then_completes(demo_app, page):  # noqa: ANN001
    SHOTS.mkdir(exist_ok=True)
    open_new_conversation(page, demo_app)
    ask(page, "What is the revenue trend?")
    wait_streaming_with_text(page, min_chars=1)
    page.screenshot(path=str(SHOTS / "ui-streaming.png"))
    snapshots = snapshots_until_done(page)
    page.screenshot(path=str(SHOTS / "ui-complete.png"))
    final = snapshots[-1]
    assert len(snapshots) >= 3, snapshots
    # Each snapshot is a growing prefix of the final answer (markdown may reflow whitespace).
    flat = [" ".join(s.split()) for s in snapshots]
    assert all(flat[-1].startswith(s[: max(1, len(s) - 2)]) for s in flat[:-1]), flat
    assert len(flat[0]) < len(flat[-1])
    assert page.locator(ASSISTANT).count() == 1 and final


def test_widget_click_mid_stream_does_not_lose_the_answer(demo_app, page):  # noqa: ANN001
    open_new_conversation(page, demo_app)
    ask(page, "How have margins changed?")
    before = wait_streaming_with_text(page)
    # A segmented control click reruns the whole script while the answer streams.
    page.locator("[data-testid='stButtonGroup'] button", has_text="Charts").click()
    page.screenshot(path=str(SHOTS / "ui-after-click.png"))
    snapshots = snapshots_until_done(page)
    final = " ".join(snapshots[-1].split())
    assert final.startswith(" ".join(before.split())[:20])
    assert len(final) > len(before)
    assert page.locator(ASSISTANT).count() == 1
    page.locator("[data-testid='stButtonGroup'] button", has_text="All").click()


def test_reload_mid_stream_resumes_the_same_answer(demo_app, page):  # noqa: ANN001
    open_new_conversation(page, demo_app)
    ask(page, "Compare net income across periods")
    before = wait_streaming_with_text(page)
    url = page.url
    assert "c=" in url
    page.reload()
    page.wait_for_selector("[data-testid='stChatInput'] textarea")
    resumed = wait_streaming_with_text(page, min_chars=len(before))
    page.screenshot(path=str(SHOTS / "ui-after-reload.png"))
    assert " ".join(resumed.split()).startswith(" ".join(before.split())[:20])
    snapshots = snapshots_until_done(page)
    final = " ".join(snapshots[-1].split())
    assert final.startswith(" ".join(before.split())[:20]) and len(final) > len(before)
    assert page.locator(ASSISTANT).count() == 1  # one answer, not a second run
    assert page.url == url


@contextmanager
def app_on_replay(tmp_path: Path, script: str, delay: float) -> Iterator[str]:
    """``streamlit run`` with a key, on the data dir ``tmp_path/data``, whose Claude is the replay
    server (a subprocess) playing ``script`` with ``delay`` seconds between frames: the app's url."""
    port = free_port()
    replay = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "support" / "anthropic_replay.py"), "--port", str(port),
         "--script", script, "--delay", str(delay)],
        cwd=ROOT,
        stdout=(tmp_path / "replay.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_port(port)
        proc, url = start_streamlit(
            tmp_path / "data",
            tmp_path / "streamlit.log",
            ANTHROPIC_API_KEY="test",
            ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}",
        )
        try:
            yield url
        finally:
            stop(proc)
    finally:
        stop(replay)


@pytest.fixture
def replay_app(tmp_path: Path) -> Iterator[str]:
    with app_on_replay(tmp_path, "scenario", 0.02) as url:
        yield url


def test_answer_through_the_real_sdk_shows_chart_and_metric(replay_app, page):  # noqa: ANN001
    open_new_conversation(page, replay_app)
    assert page.get_by_text("Demo analyst").count() == 0  # Claude, not the demo
    ask(page, "What is Apple's revenue trend?")
    snapshots = snapshots_until_done(page)
    page.wait_for_selector("[data-testid='stPlotlyChart']")
    page.wait_for_selector("[data-testid='stMetric']")
    page.screenshot(path=str(SHOTS / "ui-real-sdk.png"))
    assert "Revenue was $391.0B in FY2024" in snapshots[-1]
    assert page.locator("[data-testid='stMetric']").count() >= 1


def test_deep_link_right_after_start_goes_through_the_app_navigation(tmp_path, browser):  # noqa: ANN001
    # Streamlit starts an app with a pages/ folder in its old multipage mode; a first visit to a
    # page URL must still get app.py's navigation and layout (see finstream.ui.router.ensure_router).
    proc, url = start_streamlit(tmp_path / "data", tmp_path / "streamlit.log")
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/history")
        page.wait_for_selector("h1:has-text('History')", timeout=60_000)
        page.get_by_role("link", name="Analysis").wait_for(timeout=60_000)
        assert page.get_by_role("link", name="app", exact=True).count() == 0  # no folder listing
        context.close()
    finally:
        stop(proc)


def test_page_switch_mid_stream_and_back_reattaches(demo_app, page):  # noqa: ANN001
    open_new_conversation(page, demo_app)
    ask(page, "What does the balance sheet show?")
    before = wait_streaming_with_text(page)
    page.get_by_role("link", name="Documents").click()
    page.wait_for_selector("h1:has-text('Documents')")
    page.get_by_role("link", name="Analysis").click()
    snapshots = snapshots_until_done(page)
    final = " ".join(snapshots[-1].split())
    assert final.startswith(" ".join(before.split())[:20]) and len(final) > len(before)
    assert page.locator(ASSISTANT).count() == 1


def test_stop_then_continue(demo_app, page):  # noqa: ANN001
    open_new_conversation(page, demo_app)
    ask(page, "What is the revenue trend?")
    wait_streaming_with_text(page)
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").click()
    page.get_by_text("You stopped this answer.").wait_for()
    stopped = answer_text(page)
    page.screenshot(path=str(SHOTS / "ui-stopped.png"))
    page.get_by_role("button", name="Continue").click()
    # The continuation has started once the stopped note is gone (a short continuation may
    # already have finished by the first poll, so do not wait to see it streaming).
    page.get_by_text("You stopped this answer.").wait_for(state="detached")
    snapshots = snapshots_until_done(page)
    final = " ".join(snapshots[-1].split())
    kept = " ".join(stopped.replace("You stopped this answer.", "").split())
    assert final.startswith(kept[:20]) and len(final) > len(kept)  # continued, not just redrawn
    assert page.get_by_text("You stopped this answer.").count() == 0
    assert page.locator(ASSISTANT).count() == 1


def test_share_link_opens_in_another_browser_read_only_until_revoked(demo_app, browser, page):  # noqa: ANN001
    open_new_conversation(page, demo_app)
    ask(page, "What is the revenue trend?")
    snapshots_until_done(page)
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("button", name="Share read-only link").click()
    link = page.locator("[data-testid='stCode'] code").first.inner_text().strip()
    assert link.startswith(demo_app + "/?share=")
    viewer_context = browser.new_context(viewport={"width": 1400, "height": 900})
    viewer = viewer_context.new_page()
    viewer.set_default_timeout(60_000)
    viewer.goto(link)
    viewer.wait_for_selector("[data-testid='stPlotlyChart']")
    viewer.wait_for_selector("[data-testid='stMetric']")
    viewer.screenshot(path=str(SHOTS / "ui-shared-dashboard.png"))
    assert viewer.locator("[data-testid='stChatInput']").count() == 0
    assert viewer.get_by_role("link", name="History").count() == 0
    # The owner revokes it on the History page; the viewer's next load is refused.
    page.get_by_role("link", name="History").click()
    page.get_by_role("button", name="Revoke").first.click()
    page.get_by_text("Link revoked").wait_for()
    viewer.reload()
    viewer.get_by_text("This share link is not valid").wait_for()
    assert viewer.locator("[data-testid='stPlotlyChart']").count() == 0
    viewer_context.close()


def test_a_second_tab_follows_a_run_started_in_the_first(demo_app, browser, page):  # noqa: ANN001
    open_new_conversation(page, demo_app)
    other_context = browser.new_context(viewport={"width": 1400, "height": 900})
    other = other_context.new_page()
    other.set_default_timeout(60_000)
    other.goto(page.url)  # the same conversation, idle
    other.wait_for_selector("[data-testid='stChatInput'] textarea")
    ask(page, "What is the revenue trend?")
    final = " ".join(snapshots_until_done(page)[-1].split())
    # The idle tab notices the run (it polls while idle) and shows the same answer, no reload.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and " ".join(answer_text(other).split()) != final:
        time.sleep(0.2)
    assert " ".join(answer_text(other).split()) == final
    other_context.close()
