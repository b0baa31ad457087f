"""The pure pieces under the pages: coalescing, the heartbeat tail, the event fold, exports."""

from __future__ import annotations

import io
import threading

import openpyxl
import pytest

from finstream import events as ev
from finstream.ui import exports
from finstream.ui.artifacts import column_config, delta_color, md_escape
from finstream.ui.stream import coalesce, with_heartbeat
from finstream.ui.view import MessageView, fold

MID = "m1"


def delta(seq: int, text: str, mid: str = MID) -> ev.TextDelta:
    return ev.TextDelta(seq=seq, message_id=mid, text=text)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_coalesce_batches_by_size_and_keeps_every_character():
    words = [delta(i + 1, "word ") for i in range(1000)]  # 5,000 characters
    view = MessageView(MID)
    chunks = list(coalesce(words, view, clock=FakeClock(), min_chars=200, growth=0))
    assert "".join(chunks) == "word " * 1000 == view.text
    assert len(chunks) == 25  # one chunk per 200 characters, not one per delta
    assert view.last_seq == 1000


def test_chunks_grow_with_the_text_shown_so_total_rerender_cost_stays_linear():
    words = [delta(i + 1, "word ") for i in range(8000)]  # 40,000 characters
    chunks = list(coalesce(words, MessageView(MID), clock=FakeClock()))
    assert "".join(chunks) == "word " * 8000
    assert len(chunks) < 60  # fixed 200-character chunks would be 200
    rerendered = sum(len("".join(chunks[: i + 1])) for i in range(len(chunks)))
    assert rerendered < 15 * 40_000  # each character re-sent a bounded number of times


def test_coalesce_flushes_on_time_so_slow_text_still_shows():
    clock = FakeClock()

    def slow():
        for i in range(5):
            clock.now += 0.06  # each delta arrives after the 50 ms window
            yield delta(i + 1, f"w{i} ")

    chunks = list(coalesce(slow(), MessageView(MID), clock=clock))
    assert chunks == ["w0 ", "w1 ", "w2 ", "w3 ", "w4 "]


def test_heartbeat_lets_pending_text_out_and_ticks():
    clock = FakeClock()
    ticks = []

    def source():
        yield delta(1, "Revenue ")  # arrives at once: held (small, within the window)
        yield None  # a heartbeat within the window: nothing to flush yet
        clock.now += 0.2
        yield None  # a heartbeat after the window: the pending text goes out
        yield delta(2, "rose.")

    out = coalesce(source(), MessageView(MID), clock=clock, on_tick=lambda: ticks.append(1))
    assert next(out) == "Revenue "
    assert list(out) == ["rose."]
    assert len(ticks) == 2


def test_non_text_events_flush_text_first_and_reach_the_callback_in_order():
    seen: list[str] = []
    events = [
        delta(1, "Let me look. "),
        ev.ToolStart(seq=2, message_id=MID, tool_id="t1", tool_name="create_metric"),
        ev.MetricReady(
            seq=3, message_id=MID, metric_index=0, metric_data={"label": "Revenue", "value": 1}
        ),
        delta(4, "Done."),
        ev.MessageComplete(seq=5, message_id=MID, success=True, stop_reason="end_turn"),
    ]
    view = MessageView(MID)
    out = []
    for chunk in coalesce(
        events, view, lambda e: seen.append(f"event:{e.type}"), clock=FakeClock()
    ):
        out.append(chunk)
        seen.append(f"text:{chunk}")
    assert seen == [
        "text:Let me look. ",
        "event:tool_start",
        "event:metric_ready",
        "text:Done.",
        "event:message_complete",
    ]
    assert view.state == "complete" and view.artifacts[0].key == "m1-metric-0"


def test_resumed_tail_skips_what_was_shown_and_other_messages():
    view = fold(MID, [delta(1, "a"), delta(2, "b")])
    replay = [delta(1, "a"), delta(2, "b"), delta(3, "x", mid="earlier"), delta(4, "c")]
    assert list(coalesce(replay, view, clock=FakeClock())) == ["c"]
    assert view.text == "abc" and view.last_seq == 4


def test_view_states_for_continue_and_retry():
    stopped = fold(
        MID,
        [
            delta(1, "Partial"),
            ev.MessageComplete(seq=2, message_id=MID, success=False, stop_reason="stopped"),
        ],
    )
    assert stopped.state == "stopped" and stopped.can_continue
    failed = fold(
        MID,
        [
            ev.Error(seq=1, message_id=MID, code="overloaded", message="busy", retryable=True),
            ev.MessageComplete(seq=2, message_id=MID, success=False, stop_reason="error"),
        ],
    )
    assert failed.state == "failed" and not failed.can_continue and failed.can_retry
    refused = fold(
        MID, [ev.MessageComplete(seq=1, message_id=MID, success=False, stop_reason="refusal")]
    )
    assert not refused.can_retry


def test_with_heartbeat_yields_none_while_the_source_is_quiet():
    gate = threading.Event()

    def quiet():
        yield delta(1, "a")
        gate.wait(5)
        yield delta(2, "b")

    out = with_heartbeat(quiet(), interval=0.01)
    assert next(out).text == "a"
    assert next(out) is None  # the source is blocked: a heartbeat instead
    gate.set()
    rest = [item for item in out if item is not None]
    assert [e.text for e in rest] == ["b"]


def test_with_heartbeat_closes_the_source_when_closed_and_reraises_errors():
    closed = threading.Event()

    def source():
        try:
            while True:
                yield delta(1, "a")
        finally:
            closed.set()

    out = with_heartbeat(source(), interval=0.01)
    next(out)
    out.close()
    assert closed.wait(5)

    def broken():
        yield delta(1, "a")
        raise RuntimeError("tail failed")

    with pytest.raises(RuntimeError, match="tail failed"):
        list(with_heartbeat(broken(), interval=0.01))


TABLE = {
    "title": "Figures / FY2024",
    "columns": [
        {"name": "Period", "format": "text"},
        {"name": "Revenue", "format": "currency"},
        {"name": "Margin", "format": "percent"},
        {"name": "Revenue", "format": "number"},
    ],
    "rows": [["FY2023", 383285.0, 25.3, 1], ["FY2024", "n/a", 24.0, 2]],
    "unit_note": "USD millions",
    "sources": [{"document": "aapl.htm", "concept": "us-gaap:Revenues", "period": "FY2024"}],
}


def test_table_formats_and_exports():
    config = column_config(TABLE)
    # Decimals as the column needs them: whole millions show as 383,285, not 383,285.00.
    assert config["Revenue"]["type_config"]["format"] == "%,.0f"
    assert (
        config["Margin"]["type_config"]["format"] == "%,.1f%%"
    )  # not "percent": that multiplies by 100
    markdown = exports.conversation_markdown("t", [])  # smoke: empty conversation
    assert markdown.startswith(b"# t")
    frame = exports.table_frame(TABLE)
    assert list(frame.columns) == ["Period", "Revenue", "Margin", "Revenue (2)"]
    assert frame["Revenue"].isna().tolist() == [False, True]  # text in a number column: blank
    csv = exports.table_csv(TABLE).decode()
    assert csv.splitlines()[0] == "Period,Revenue,Margin,Revenue (2)"
    book = openpyxl.load_workbook(io.BytesIO(exports.table_xlsx(TABLE)))
    sheet = book.active
    assert sheet["A1"].value == "Figures / FY2024" and sheet["A2"].value == "USD millions"
    assert sheet["B4"].value == 383285.0
    assert any("aapl.htm" in str(c.value) for row in sheet.iter_rows() for c in row)
    assert exports.safe_filename(TABLE["title"], "csv") == "figures-fy2024.csv"
    assert exports.safe_filename("Apple Inc. · Revenue by period", "csv", "table") == (
        "apple-inc-revenue-by-period-table.csv"
    )
    assert sheet.cell(4, 2).number_format == "#,##0;(#,##0)"  # whole millions: no .00 in Excel


def test_chart_html_is_standalone_and_escapes_sources():
    data = {
        "figure": {"data": [{"type": "bar", "x": ["a"], "y": [1]}], "layout": {"template": {}}},
        "sources": [{"document": "<script>alert(1)</script>.htm"}],
    }
    html = exports.chart_html(data).decode()
    assert "plotly" in html.lower() and "<script>alert(1)</script>" not in html
    assert "template" not in exports.chart_figure(data)["layout"]


def test_chart_text_from_the_model_is_shown_literally_by_plotly():
    from finstream.tools.charts import ChartInput, build_figure

    spec = ChartInput(title='<a href="https://evil.example">Revenue</a>', x=["<b>FY2024</b>"],
                      series=[{"name": "<img src=x>", "values": [1.0],
                               "sources": [{"document": "<i>a.htm</i>"}]}], y_label="<sup>USD</sup>")
    figure = exports.chart_figure({"figure": build_figure(spec)})
    text = str(figure)
    assert "<a " not in text and "<b>" not in text and "<img" not in text and "<i>" not in text
    assert figure["layout"]["title"]["text"].startswith("&lt;a href=")
    assert figure["layout"]["yaxis"]["title"]["text"].startswith("&lt;sup&gt;USD&lt;/sup&gt;")
    assert "%{customdata[1]}" in figure["data"][0]["hovertemplate"]  # the template itself is kept
    html = exports.chart_html({"figure": build_figure(spec)}).decode()
    assert '<a href="https://evil.example">' not in html and "&lt;a href=" in html


def test_markdown_export_has_questions_answers_and_artifacts():
    view = fold(
        MID,
        [
            delta(1, "Revenue rose."),
            ev.TableReady(seq=2, message_id=MID, table_index=0, table_data=TABLE),
            ev.MetricReady(
                seq=3,
                message_id=MID,
                metric_index=0,
                metric_data={
                    "label": "Revenue",
                    "value": 391e9,
                    "unit": "USD",
                    "display": "$391.0B",
                    "delta_display": "+2.0%",
                },
            ),
            ev.MessageComplete(seq=4, message_id=MID, success=True, stop_reason="end_turn"),
        ],
    )
    text = exports.conversation_markdown(
        "Apple", [("user", "Trend?"), ("assistant", view)]
    ).decode()
    assert "# Apple" in text and "## Q: Trend?" in text and "Revenue rose." in text
    assert "| Period | Revenue | Margin | Revenue (2) |" in text
    assert "- **Revenue**: \\$391.0B (+2.0%)" in text and "Source: aapl.htm" in text


def test_markdown_escaping_and_cost_colours():
    assert md_escape("[click](javascript:x) <b>*x*</b>") == (
        "\\[click\\]\\(javascript\\:\u2060x\\) \\<b\\>\\*x\\*\\</b\\>"
    )  # (a word joiner after ":" breaks autolinks, which GFM finds after escapes)
    assert delta_color({"label": "Operating expenses FY2024", "delta_color": "normal"}) == "inverse"
    assert delta_color({"label": "Revenue FY2024", "delta_color": "normal"}) == "normal"
    assert delta_color({"label": "Cost of sales", "delta_color": "off"}) == "off"
