"""The assembler alone: parts in, decisions out, no model and no I/O."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from finstream.assembler import (
    Assembler,
    NoticeOut,
    TextOut,
    ToolOpened,
    ToolReady,
    parse_tool_input,
)
from finstream.providers.base import (
    BlockStop,
    Finish,
    Notice,
    TextPart,
    ToolInputDelta,
    ToolUseStart,
)

CHART = {"title": "Revenue", "x": ["FY2023", "FY2024"], "series": [{"name": "R", "values": [1.5, 2]}]}


def feed_all(parts):
    asm = Assembler()
    actions = [a for p in parts for a in asm.feed(p)]
    return asm, actions


def test_text_goes_out_at_once_and_tool_waits_for_block_end():
    raw = json.dumps(CHART)
    asm = Assembler()
    assert asm.feed(TextPart("Revenue ")) == [TextOut("Revenue ")]
    assert asm.feed(ToolUseStart(1, "t1", "create_chart")) == [ToolOpened("t1", "create_chart")]
    assert asm.feed(ToolInputDelta(1, "")) == []
    assert asm.feed(ToolInputDelta(1, raw[:10])) == []
    assert asm.feed(ToolInputDelta(1, raw[10:])) == []
    [ready] = asm.feed(BlockStop(1))
    assert isinstance(ready, ToolReady)
    assert ready.call.input == CHART and ready.call.error is None


def test_several_tool_blocks_are_buffered_by_index():
    a, b = json.dumps({"metric": "revenue"}), json.dumps({"metric": "net income"})
    parts = [
        ToolUseStart(1, "t1", "get_financial_data"),
        ToolUseStart(2, "t2", "get_financial_data"),
        ToolInputDelta(2, b[:5]),
        ToolInputDelta(1, a[:7]),
        ToolInputDelta(2, b[5:]),
        ToolInputDelta(1, a[7:]),
        BlockStop(2),
        BlockStop(1),
        Finish("tool_use"),
    ]
    asm, actions = feed_all(parts)
    ready = [x.call for x in actions if isinstance(x, ToolReady)]
    assert [(c.tool_id, c.input) for c in ready] == [("t2", {"metric": "net income"}), ("t1", {"metric": "revenue"})]
    assert [blk["id"] for blk in asm.assistant_content()] == ["t2", "t1"]


def test_invalid_json_becomes_an_error_not_an_exception():
    _, actions = feed_all([ToolUseStart(0, "t", "create_chart"), ToolInputDelta(0, '{"title": "x",'), BlockStop(0)])
    call = actions[-1].call
    assert call.input is None and "not valid JSON" in call.error


def test_non_object_json_is_refused():
    assert parse_tool_input("[1, 2]")[1] == "tool input must be a JSON object, got list"
    assert parse_tool_input("") == ({}, None)  # a tool without parameters sends no fragments


def test_block_left_open_at_finish_is_reported_truncated():
    asm, actions = feed_all([ToolUseStart(0, "t", "create_chart"), ToolInputDelta(0, '{"title": "Rev'), Finish("max_tokens")])
    call = actions[-1].call
    assert "cut off" in call.error
    assert asm.finish.stop_reason == "max_tokens"
    # The API needs an object for tool_use input, even for a broken call.
    assert asm.assistant_content()[-1]["input"] == {}


def test_notice_and_unknown_block_fragments():
    _, actions = feed_all([Notice("retrying"), ToolInputDelta(5, "{}"), BlockStop(5)])
    assert actions == [NoticeOut("retrying")]


def test_text_blocks_merge_between_tool_blocks():
    asm, _ = feed_all([TextPart("a"), TextPart("b"), ToolUseStart(1, "t", "x"), BlockStop(1), TextPart("c")])
    assert [b["type"] for b in asm.assistant_content()] == ["text", "tool_use", "text"]
    assert asm.assistant_content()[0]["text"] == "ab"


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(payload=st.dictionaries(st.text(max_size=10), json_values, max_size=6), cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_any_split_of_the_json_gives_the_same_call(payload, cuts):
    raw = json.dumps(payload, ensure_ascii=False)
    points = sorted({c % (len(raw) + 1) for c in cuts})
    fragments = [raw[i:j] for i, j in zip([0, *points], [*points, len(raw)], strict=True)]
    parts = [ToolUseStart(3, "t", "tool"), *[ToolInputDelta(3, f) for f in fragments], BlockStop(3)]
    _, actions = feed_all(parts)
    assert actions[-1].call.input == payload


@settings(max_examples=200, deadline=None)
@given(fragments=st.lists(st.text(max_size=30), max_size=10))
def test_junk_fragments_never_raise(fragments):
    parts = [ToolUseStart(0, "t", "tool"), *[ToolInputDelta(0, f) for f in fragments], BlockStop(0)]
    _, actions = feed_all(parts)
    call = actions[-1].call
    assert (call.input is None) != (call.error is None)
