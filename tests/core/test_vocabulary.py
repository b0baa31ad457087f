"""One vocabulary from protocol to page (issue 12 C): one artifact type, tools described once,
theme-neutral figures, and a demo analyst that knows the filings only from list_filings."""

from __future__ import annotations

import json

import pytest

from finstream import events as ev
from finstream.agent import SYSTEM_PROMPT, Turn, run_turn
from finstream.artifacts import Artifact
from finstream.filings.ingest import ingest
from finstream.providers.base import ProviderRequest
from finstream.providers.demo import DemoAnalyst
from finstream.samples import sample_paths
from finstream.tools import default_toolbox, tool_label
from finstream.tools.charts import ChartInput, build_figure
from finstream.ui import exports
from finstream.ui.view import fold

CHART_DATA = {"figure": {"data": [], "layout": {}}, "spec": {"title": "Apple: revenue"}, "sources": []}


@pytest.fixture(scope="module")
def apple():
    path = sample_paths()[0]
    return ingest(path.name, path.read_bytes())


# ---------------------------------------------------------------- one artifact type


def test_an_artifact_event_carries_the_one_artifact_and_keeps_its_wire_json():
    event = ev.ChartReady(seq=4, message_id="m1", chart_index=2, chart_data=CHART_DATA)
    art = event.artifact
    assert art == Artifact(kind="chart", index=2, data=CHART_DATA, message_id="m1", seq=4)
    assert (art.key, art.title) == ("m1-chart-2", "Apple: revenue")
    assert ev.artifact_ready(art) == event
    # The wire format is the protocol's, unchanged: no artifact field, the kind's own names.
    assert json.loads(ev.event_to_json(event)) == {
        "seq": 4, "message_id": "m1", "type": "chart_ready", "chart_data": CHART_DATA, "chart_index": 2}
    for kind, cls in (("table", ev.TableReady), ("metric", ev.MetricReady)):
        made = ev.artifact_ready(Artifact(kind, 0, {"title": "t", "label": "l"}, "m1", 9))
        assert isinstance(made, cls) and made.artifact.kind == kind and made.seq == 9


def test_the_page_folds_the_events_artifact_as_is():
    events = [ev.MetricReady(seq=1, message_id="m", metric_index=0, metric_data={"label": "Revenue FY2024"}),
              ev.ChartReady(seq=2, message_id="m", chart_index=0, chart_data=CHART_DATA)]
    view = fold("m", list(events))
    assert view.artifacts == [e.artifact for e in events]
    assert [a.kind for a in view.by_kind("chart")] == ["chart"]


def test_the_store_returns_the_artifact_the_event_carried(tmp_path):
    from finstream.store import Store

    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    conv = store.create_conversation()
    mid = store.begin_turn(conv.id, "q").assistant.id
    event = ev.TableReady(seq=2, message_id=mid, table_index=0, table_data={"title": "T", "rows": []})
    store.append_batch(conv.id, [ev.MessageStart(seq=1, message_id=mid, conversation_id=conv.id), event])
    assert store.list_artifacts(conv.id) == [event.artifact]
    assert type(store.message_artifacts(mid)[0]) is Artifact


# ---------------------------------------------------------------- tools described once


def test_progress_labels_and_the_prompts_tool_list_come_from_the_tool_definitions():
    from finstream.tools.data import DATA_TOOLS
    from finstream.tools.outputs import OUTPUT_TOOLS

    box = default_toolbox()
    assert [t.name for t in (*DATA_TOOLS, *OUTPUT_TOOLS)] == box.names()
    for tool in (*DATA_TOOLS, *OUTPUT_TOOLS):
        assert tool.progress and tool_label(tool.name) == tool.progress == box.label(tool.name), tool.name
    assert tool_label("no_such_tool") == "Running no_such_tool"
    data, output = box.names("data"), box.names("output")
    assert set(data) | set(output) == set(box.names()) and not set(data) & set(output)
    assert output == ["create_chart", "create_table", "create_metric"]
    assert f"data tools ({', '.join(data)})" in SYSTEM_PROMPT
    assert f"output tools ({', '.join(output)})" in SYSTEM_PROMPT


# ---------------------------------------------------------------- theme-neutral figures


def _spec() -> ChartInput:
    return ChartInput(title="Revenue", chart_type="bar", x=["FY2023", "FY2024"],
                      series=[{"name": "A", "values": [1.0, 2.0]}, {"name": "B", "values": [3.0, 4.0]}])


def test_figures_carry_no_theme_whatever_plotlys_default_template_is():
    import plotly.io as pio

    before = pio.templates.default
    try:
        figures = []
        for default in ("plotly", "plotly_dark"):  # Streamlit sets its own default once imported
            pio.templates.default = default
            figures.append(build_figure(_spec()))
    finally:
        pio.templates.default = before
    assert figures[0] == figures[1]
    figure = figures[0]
    assert "template" not in figure["layout"]
    for trace in figure["data"]:
        assert "color" not in (trace.get("marker") or {}) and "color" not in (trace.get("line") or {})
    assert exports.chart_figure({"figure": figure})["layout"] == figure["layout"]  # the page undoes nothing


def test_the_html_download_brings_its_own_template_and_colours():
    html = exports.chart_html({"figure": build_figure(_spec())}).decode()
    assert exports.EXPORT_COLORS[0] in html and '"colorway"' in html
    assert '"template"' in html


# ---------------------------------------------------------------- the demo analyst lists the filings


def test_a_provider_request_has_no_side_channel_for_filings():
    assert "context" not in ProviderRequest.__dataclass_fields__


async def test_the_demo_first_lists_the_filings_then_looks_up_from_the_listing(apple):
    turn = Turn("c", "m", [{"role": "user", "content": "Show Apple's revenue trend"}], [apple])
    events = [e async for e in run_turn(DemoAnalyst(delay=0), default_toolbox(), turn)]
    calls = [e for e in events if isinstance(e, ev.ToolComplete)]
    starts = [e for e in events if isinstance(e, ev.ToolStart)]
    assert starts[0].tool_name == calls[0].tool_name == "list_filings"
    said = "".join(e.text for e in events[: events.index(starts[0])] if isinstance(e, ev.TextDelta))
    assert said == "Let me check which filings are loaded.\n\n"
    assert calls[1].tool_name == "get_financial_data" and calls[1].input["filing"] == apple.filename
    assert events[-1].success


async def test_the_demo_knows_only_what_the_listing_said():
    """A listing naming a filing that is not loaded: the demo asks for that file, as a model
    that read it would (it has no other way to know the filings)."""
    listing = {"filings": [{"filename": "msft-10-k.htm", "format": "ixbrl", "company": "Microsoft Corp",
                            "period_types": ["annual"]}], "failed": []}
    messages = [
        {"role": "user", "content": "Show Microsoft's revenue trend"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t0", "name": "list_filings", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t0", "content": json.dumps(listing)}]},
    ]
    parts = [p async for p in DemoAnalyst(delay=0).stream(ProviderRequest(system="", messages=messages))]
    sent = "".join(getattr(p, "partial_json", "") for p in parts)
    assert json.loads(sent)["filing"] == "msft-10-k.htm" and parts[-1].stop_reason == "tool_use"
    first = [p async for p in DemoAnalyst(delay=0).stream(ProviderRequest(system="", messages=messages[:1]))]
    assert [getattr(p, "name", None) for p in first if hasattr(p, "name")] == ["list_filings"]
