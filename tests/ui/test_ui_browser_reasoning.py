"""Claude's reasoning and usage on the page, in headless Chromium, through the real SDK and the
strict replay (`ANTHROPIC_API_KEY=... ANTHROPIC_BASE_URL=<replay> make run`, as a user runs it).

While the answer streams, the notes the model writes in thinking blocks (its plan, the note between
tool calls) appear in a "Reasoning" area beside the tool steps, never in the answer text; when it
ends, tokens and the estimated cost appear for the answer and for the conversation.
"""

from __future__ import annotations

import re
import time

from tests.support.anthropic_replay import SCENARIO_FINAL, SCENARIO_NOTE, SCENARIO_PLAN
from tests.ui.test_ui_browser_stream import (  # noqa: F401  (fixtures)
    SHOTS,
    answer_text,
    app_on_replay,
    ask,
    browser,
    open_new_conversation,
    page,
    replay_app,
    streaming,
)

REASONING_JS = """() => {
  const boxes = [...document.querySelectorAll("[data-testid='stExpander']")]
    .filter((e) => e.innerText.includes("Reasoning"));
  return boxes.length ? boxes[boxes.length - 1].innerText : "";
}"""


def test_reasoning_streams_beside_the_tools_then_tokens_and_cost(replay_app, page):  # noqa: ANN001, F811
    open_new_conversation(page, replay_app)
    ask(page, "What is Apple's revenue trend?")
    while_streaming: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        live = streaming(page)
        notes = page.evaluate(REASONING_JS)
        if live and notes:
            while_streaming.append(notes)
            assert SCENARIO_PLAN[:40] not in answer_text(page)  # reasoning never joins the answer
        if while_streaming and not live:
            break
        time.sleep(0.05)
    assert while_streaming, "no reasoning appeared while the answer streamed"
    assert any(SCENARIO_PLAN[:40] in n for n in while_streaming)
    assert any(SCENARIO_NOTE[:30] in n for n in while_streaming)  # the note between the tools
    page.wait_for_function("() => document.body.innerText.includes('This conversation:')")
    page.screenshot(path=str(SHOTS / "ui-reasoning-usage.png"))
    body = page.evaluate("() => document.body.innerText")
    # (numbers the checker could not verify carry a "⚠n" mark: read the words without them)
    assert SCENARIO_FINAL[:40] in re.sub(r"⚠\d+", "", answer_text(page))
    per_answer = re.search(r"([\d,]+) tokens in \(([\d,]+) from cache\) · ([\d,]+) out · \$(\d+\.\d{4})", body)
    assert per_answer, body[-2000:]
    assert int(per_answer.group(2).replace(",", "")) > 0 and float(per_answer.group(4)) > 0
    assert re.search(r"This conversation: [\d,]+ tokens in .* · \$\d+\.\d{4}", body)
    assert "Reasoning" in body  # kept in the history, folded away


def test_continue_a_cut_answer_then_a_second_question_reads_the_cache(tmp_path, page):  # noqa: F811
    """--script thinking_cut,scenario: the first answer is cut mid-text; Continue finishes it on
    claude-sonnet-5-5 (no prefill: the strict replay would refuse it); a second question then
    reads the cache."""
    with app_on_replay(tmp_path, "thinking_cut,scenario", 0.01) as url:
        open_new_conversation(page, url)
        ask(page, "What is Apple's revenue trend?")
        page.get_by_role("button", name="Continue").wait_for()
        assert "three fiscal years side by side" in answer_text(page)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_function("() => document.body.innerText.includes('Revenue was $391.0B in FY2024')")
        page.wait_for_function("() => !document.body.innerText.includes('This answer is incomplete')")
        text = answer_text(page)
        assert text.count("three fiscal years side by side") == 1  # appended to the same message
        page.wait_for_selector("[data-testid='stChatInput'] textarea:not([disabled])")
        until = time.monotonic() + 60
        while streaming(page) and time.monotonic() < until:
            time.sleep(0.1)
        time.sleep(0.5)  # let the rerun that drew the finished answer settle
        ask(page, "And what does that mean for FY2025?")
        page.wait_for_function("() => document.body.innerText.includes('mean for FY2025')")
        page.wait_for_function(
            "() => document.querySelectorAll(\"[data-testid='stChatMessage']\").length >= 4")
        deadline = time.monotonic() + 90
        lines: list[str] = []
        while time.monotonic() < deadline:
            body = page.evaluate("() => document.body.innerText")
            lines = re.findall(r"([\d,]+) tokens in \(([\d,]+) from cache\)", body)
            if len(lines) >= 3 and not streaming(page):  # two answers + the conversation line
                break
            time.sleep(0.2)
        page.screenshot(path=str(SHOTS / "ui-continue-cache.png"))
        reads = [int(r.replace(",", "")) for _total, r in lines]
        assert len(reads) >= 3 and reads[1] > 0, lines
