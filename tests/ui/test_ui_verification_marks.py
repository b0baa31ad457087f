"""Unverified numbers are marked on the page: a tile's value, a chart's caption, the answer's text
(AppTest on the real runtime with Apple's FY2024 10-K, a scripted model that mistypes), and the
dashboard and exports keep the marks."""

from __future__ import annotations

import re

import pytest

from finstream.filings.ingest import ingest
from finstream.providers.scripted import text_step, tool_step
from finstream.ui import exports
from finstream.ui.artifacts import md_escape
from finstream.ui.inert import md_inert
from finstream.ui.verification import check_lines, mark_text, metric_value, status_line
from finstream.ui.view import fold
from tests.support.filings import FILINGS_DIR

AAPL_10K = "aapl-10-k-2024-11-01.html"
QUESTION = "How did revenue do?"
ANSWER = "Revenue was $391.0B in FY2024, up 2.0% from $383.3B in FY2023. Net income was $412.3B in FY2024."


@pytest.fixture(scope="module")
def apple():
    path = FILINGS_DIR / AAPL_10K
    if not path.is_file():
        pytest.skip(f"real filings not found at {FILINGS_DIR}")
    return ingest(AAPL_10K, path.read_bytes())


def script(provider) -> None:  # noqa: ANN001
    provider.add(
        tool_step(("get_financial_data", {"metric": "revenue", "filing": AAPL_10K})),
        tool_step(
            ("create_metric", {"label": "Revenue FY2024", "value": 412.3e9, "unit": "USD", "period": "FY2024"}),
            ("create_metric", {"label": "Revenue FY2023", "value": 383.285e9, "unit": "USD", "period": "FY2023"}),
            ("create_chart", {"title": "Revenue", "x": ["FY2023", "FY2024"],
                              "series": [{"name": "Revenue", "values": [383.285e9, 383.285e9]}], "unit": "USD"}),
        ),
        text_step(ANSWER),
    )


def plain(text: str) -> str:
    """Text as a reader sees it: Markdown escapes undone, the invisible word joiners that keep
    URLs and addresses from being linkified (finstream/ui/inert.py) dropped."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


def page_text(at) -> str:  # noqa: ANN001
    """Markdown and captions of the page, as a reader sees them."""
    return plain("\n".join([m.value for m in at.markdown] + [c.value for c in at.caption]))


def test_the_page_marks_what_did_not_verify_and_says_why(ui_runtime, app_test, apple):
    rt, provider = ui_runtime
    conv = rt.store.create_conversation("Apple")
    rt.store.add_document(conv.id, AAPL_10K, b"<html/>", filing=apple)
    script(provider)
    at = app_test()
    at.query_params["c"] = conv.id
    at.run()
    at.chat_input(key="prompt").set_value(QUESTION).run()
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert tiles == {"Revenue FY2024": "$412.3B ⚠", "Revenue FY2023": "$383.3B"}
    why = next(m.help for m in at.metric if m.label == "Revenue FY2024")  # the tile's help says why
    assert plain(why).startswith("⚠ Unverified value: no fact equals $412.3B") and "$391.0B" in plain(why)
    text = page_text(at)
    assert "Unverified Revenue @ FY2024: wrong period" in text  # the chart's caption
    assert "Checked against the filings: 1 verified, 1 unverified" in text
    assert "$412.3B: no fact" in text  # the note under the streamed answer

    at.run()  # a rerun draws the answer from the log: now the number itself is marked
    assert not at.exception
    answer = "\n".join(m.value for m in at.chat_message[-1].markdown)
    assert ":red-background[" + md_inert("$412.3B") + "⚠1]" in answer
    assert "$391.0B in FY2024" in plain(answer)  # verified numbers are left as written

    token = rt.store.create_share_link(conv.id).token  # the read-only dashboard keeps the marks
    dash = app_test()
    dash.query_params["share"] = token
    dash.run()
    assert not dash.exception
    assert "$412.3B ⚠" in [m.value for m in dash.metric]
    assert "Unverified Revenue @ FY2024: wrong period" in page_text(dash)


def test_marks_in_text_are_escaped_and_follow_the_spans():
    text = "Revenue was $412.3B, not *bold* [link](http://x)."
    checks = [{"status": "unverified", "span": [12, 19], "text": "$412.3B", "reason": "no fact [x](y)"},
              {"status": "verified", "span": [0, 7], "text": "Revenue", "reason": "ok"}]
    marked, notes = mark_text(text, checks, md_escape)
    # Every piece is escaped, not only the marked number: no link or emphasis from model text.
    assert marked == (md_escape("Revenue was ") + ":red-background[\\$412\\.3B⚠1]"
                      + md_escape(", not *bold* [link](http://x)."))
    assert "](http" not in marked
    assert notes == ["[1] $412.3B: no fact [x](y)"]
    escaped = "Revenue was \\$412.3B."  # a model that escapes its dollar signs itself
    checks_escaped = [{"status": "unverified", "span": [13, 20], "text": "$412.3B", "reason": "r"}]
    assert mark_text(escaped, checks_escaped, md_escape)[0] == (
        md_escape("Revenue was ") + ":red-background[\\$412\\.3B⚠1]" + md_escape("."))
    stale = [{"status": "unverified", "span": [12, 19], "text": "$999.9B", "reason": "r"}]
    assert mark_text(text, stale, md_escape) == (md_escape(text), [])  # text changed: no mark misplaced


def test_tile_and_caption_helpers():
    data = {"verification": [
        {"status": "unverified", "where": "value", "reason": "wrong period: FY2023"},
        {"status": "derived", "where": "delta", "reason": "growth"},
    ]}
    assert metric_value("$383.3B", data) == "$383.3B ⚠"
    assert metric_value("$383.3B", {"verification": data["verification"][1:]}) == "$383.3B"
    assert check_lines(data) == ["⚠ Unverified value: wrong period: FY2023"]
    assert status_line(data) == "Checked against the filings: 1 derived, 1 unverified"
    assert status_line({}) is None and check_lines({"sources": []}) == []


def test_exports_keep_the_marks(ui_runtime, apple):
    rt, provider = ui_runtime
    conv = rt.store.create_conversation("Apple")
    rt.store.add_document(conv.id, AAPL_10K, b"<html/>", filing=apple)
    script(provider)
    mid = rt.start(conv.id, QUESTION)
    rt.call(rt.runs.wait(mid))
    view = fold(mid, list(rt.iter_tail(conv.id, 0, message_id=mid)), question=QUESTION)
    assert [c["status"] for c in view.checks] == ["verified", "derived", "verified", "unverified"]
    markdown = plain(exports.conversation_markdown("Apple", [("user", QUESTION), ("assistant", view)]).decode())
    assert "- ⚠ [1] $412.3B: no fact" in markdown
    assert "  - ⚠ Unverified value: no fact equals" in markdown
    chart = next(a for a in view.artifacts if a.kind == "chart")
    assert "Unverified Revenue @ FY2024: wrong period" in exports.chart_html(chart.data).decode()
