"""The agent loop driven by the scripted provider: whole event sequences, every failure path."""

import asyncio
import json

import pytest
from pydantic import BaseModel

from finstream.agent import Turn, run_turn
from finstream.events import parse_event
from finstream.providers.base import (
    BlockStop,
    Finish,
    ProviderError,
    TextPart,
    ToolInputDelta,
    ToolUseStart,
)
from finstream.providers.scripted import Gate, ScriptedProvider, ScriptError, text_step, tool_step
from finstream.tools.base import Tool, Toolbox, ToolOutcome
from finstream.tools.outputs import OUTPUT_TOOLS


class Echo(BaseModel):
    word: str


def _echo(inp: Echo, ctx) -> ToolOutcome:
    if inp.word == "boom":
        raise RuntimeError("kaput")
    return ToolOutcome({"echo": inp.word})


TOOLBOX = Toolbox([Tool("echo", "echo a word", Echo, _echo), *OUTPUT_TOOLS])
CHART = {"title": "Revenue", "x": ["FY2023", "FY2024"], "series": [{"name": "Revenue", "values": [383.3, 391.0]}]}
METRIC = {"label": "Revenue FY2024", "value": 391035000000, "delta": 2.0}


async def collect(provider, messages=None, **kw):
    turn = Turn("conv", "msg", messages or [{"role": "user", "content": "q"}], seq_start=kw.pop("seq_start", 1))
    return [e async for e in run_turn(provider, TOOLBOX, turn, **kw)]


def types(events):
    return [e.type for e in events]


async def test_tool_using_turn_whole_sequence():
    provider = ScriptedProvider([
        tool_step(("create_chart", CHART), ("create_metric", METRIC), text="Up 2%. "),
        text_step("Done."),
    ])
    events = await collect(provider)
    assert types(events) == [
        "message_start", "text_delta", "text_delta", "tool_start", "tool_complete", "chart_ready",
        "tool_start", "tool_complete", "metric_ready", "text_delta", "message_complete",
    ]
    assert [e.seq for e in events] == list(range(1, 12))
    assert all(e.message_id == "msg" for e in events)
    assert "".join(e.text for e in events if e.type == "text_delta") == "Up 2%. Done."
    assert events[5].chart_data["figure"]["data"][0]["y"] == [383.3, 391.0]
    assert events[8].metric_data["display"] == "$391.0B"
    assert events[-1].success and events[-1].stop_reason == "end_turn"
    assert events[-1].usage.input_tokens == 20
    # Parallel tool calls are answered together, in one user message, in order.
    second = provider.requests[1].messages
    assert [b["type"] for b in second[-2]["content"]] == ["text", "tool_use", "tool_use"]
    assert [b["tool_use_id"] for b in second[-1]["content"]] == ["toolu_01", "toolu_02"]
    provider.assert_consumed()
    for e in events:  # every event round-trips through the protocol
        assert parse_event(e.model_dump_json()) == e


async def test_invalid_tool_json_is_told_to_the_model_which_corrects_itself():
    provider = ScriptedProvider([
        tool_step(("create_chart", '{"title": "Rev", "x": ['),),
        tool_step(("create_chart", CHART)),
        text_step("Fixed."),
    ])
    events = await collect(provider)
    first = next(e for e in events if e.type == "tool_complete")
    assert "not valid JSON" in first.error and first.result is None
    result = provider.requests[1].messages[-1]["content"][0]
    assert result["is_error"] is True and '{"title": "Rev", "x": [' in result["content"]
    assert types(events).count("chart_ready") == 1
    assert events[-1].success


async def test_schema_violation_unknown_tool_and_tool_crash_are_errors_the_run_survives():
    provider = ScriptedProvider([
        tool_step(("create_chart", {"title": "x", "x": ["a"], "series": [{"name": "s", "values": [1, 2]}]}),
                  ("no_such_tool", {}), ("echo", {"word": "boom"}), ("echo", {"word": "ok"})),
        text_step("ok"),
    ])
    events = await collect(provider)
    completes = [e for e in events if e.type == "tool_complete"]
    assert "has 2 values but x has 1 labels" in completes[0].error
    assert "unknown tool 'no_such_tool'" in completes[1].error
    assert "kaput" in completes[2].error
    assert completes[3].result == {"echo": "ok"} and completes[3].error is None
    assert events[-1].success


async def test_provider_error_gives_error_then_failed_complete():
    provider = ScriptedProvider([[TextPart("Partial "), ProviderError("overloaded", "Claude is overloaded", retryable=True)]])
    events = await collect(provider)
    assert types(events) == ["message_start", "text_delta", "error", "message_complete"]
    assert events[2].code == "overloaded" and events[2].retryable
    assert not events[3].success and events[3].stop_reason == "error"


async def test_unexpected_exception_never_escapes():
    provider = ScriptedProvider([[ValueError("parser exploded")]])
    events = await collect(provider)
    assert events[-2].type == "error" and events[-2].code == "internal"
    assert not events[-1].success


async def test_stream_without_message_stop_is_incomplete():
    provider = ScriptedProvider([[TextPart("Half an ans"), Finish(None)]])
    events = await collect(provider)
    assert events[-2].code == "incomplete_stream" and events[-2].retryable
    assert events[-1].stop_reason == "incomplete"


async def test_tool_call_cut_by_max_tokens():
    parts = [TextPart("Chart: "), ToolUseStart(1, "t1", "create_chart"), ToolInputDelta(1, '{"title": "Rev'), Finish("max_tokens")]
    events = await collect(ScriptedProvider([parts]))
    complete = next(e for e in events if e.type == "tool_complete")
    assert "cut off" in complete.error
    assert types(events)[-2:] == ["error", "message_complete"]
    assert events[-1].stop_reason == "max_tokens"


async def test_refusal_and_pause_turn():
    events = await collect(ScriptedProvider([text_step("", stop_reason="refusal")]))
    assert events[-2].code == "refusal" and not events[-2].retryable
    provider = ScriptedProvider([text_step("Thinking... ", stop_reason="pause_turn"), text_step("answer")])
    events = await collect(provider)
    assert events[-1].success
    assert provider.requests[1].messages[-1]["role"] == "assistant"  # paused content is sent back


async def test_rounds_are_bounded():
    provider = ScriptedProvider([tool_step(("echo", {"word": "again"})) for _ in range(3)])
    events = await collect(provider, max_rounds=3)
    assert events[-2].code == "max_rounds" and not events[-1].success


async def test_unexpected_model_call_fails_loudly():
    provider = ScriptedProvider([tool_step(("echo", {"word": "x"}))])
    events = await collect(provider)
    assert "no scripted step left" in events[-2].message
    with pytest.raises(ScriptError):
        ScriptedProvider([text_step("unused")]).assert_consumed()


async def test_cancel_propagates_so_the_run_can_stop():
    gate = asyncio.Event()
    provider = ScriptedProvider([[TextPart("a"), Gate(gate), TextPart("b"), BlockStop(0), Finish("end_turn")]])
    seen = []

    async def consume():
        async for e in run_turn(provider, TOOLBOX, Turn("c", "m", [{"role": "user", "content": "q"}])):
            seen.append(e.type)

    task = asyncio.create_task(consume())
    while "text_delta" not in seen:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["message_start", "text_delta"]


async def test_seq_start_and_continuation_prefix():
    turn = Turn("c", "m", [{"role": "user", "content": "q"}], seq_start=41, prefix_text="Earlier ", artifact_counts={"chart": 2})
    provider = ScriptedProvider([tool_step(("create_chart", CHART), text="more")])
    provider.add(text_step("."))
    events = [e async for e in run_turn(provider, TOOLBOX, turn)]
    assert events[0].seq == 41
    # The text so far (prefix included) is the tailers' to build (runs/tail.py), not the loop's.
    assert events[1].text == "more" and events[1].accumulated_text is None
    assert next(e for e in events if e.type == "chart_ready").chart_index == 2


def test_tool_results_are_json():
    assert json.loads(json.dumps(TOOLBOX.schemas()))[0]["name"] == "echo"


async def test_text_of_a_later_round_starts_a_new_paragraph():
    provider = ScriptedProvider([tool_step(("echo", {"word": "x"}), text="Looking it up."), text_step("Revenue rose.")])
    events = await collect(provider)
    assert "".join(e.text for e in events if e.type == "text_delta") == "Looking it up.\n\nRevenue rose."


async def test_model_choice_reaches_the_provider():
    provider = ScriptedProvider([text_step("ok")])
    turn = Turn("c", "m", [{"role": "user", "content": "q"}])
    seen = []

    async def spy(request):
        seen.append(request.model)
        async for part in ScriptedProvider.stream(provider, request):
            yield part

    provider.stream = spy
    [e async for e in run_turn(provider, TOOLBOX, turn, model="claude-haiku-4-5")]
    assert seen == ["claude-haiku-4-5"]
