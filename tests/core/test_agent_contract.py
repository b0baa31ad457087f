"""The agent loop's contract in detail, through run_turn with the scripted provider and real tools:
what each failure says, how usage and cost add up over rounds, what the model is sent (system
prompt, limits, trimmed history, tool results), what the transcript recorder is told, reasoning
paragraphs and the text check before message_complete."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
from pydantic import BaseModel

from finstream import transcript
from finstream.agent import SYSTEM_PROMPT, Turn, run_turn, system_prompt
from finstream.filings.model import Fact, Filing, Source
from finstream.providers.base import (
    BlockStop,
    Finish,
    Notice,
    ProviderError,
    ProviderRequest,
    TextPart,
    ThinkingPart,
    ToolUseStart,
)
from finstream.providers.scripted import ScriptedProvider, text_step, tool_step
from finstream.tools.base import Tool, Toolbox, ToolContext, ToolOutcome
from finstream.tools.outputs import OUTPUT_TOOLS

HAIKU = "claude-haiku-4-5"  # priced per million tokens: 1.00 input, 1.25 cache write, 0.10 cache read, 5.00 output
CHART = {"title": "Revenue", "x": ["FY2023", "FY2024"], "series": [{"name": "Revenue", "values": [383.3, 391.0]}]}
METRIC = {"label": "Revenue FY2024", "value": 391035000000, "delta": 2.0}


class Word(BaseModel):
    word: str


def _context(inp: Word, ctx: ToolContext) -> ToolOutcome:
    """What the tool was given: the filings' names and the failed uploads."""
    return ToolOutcome({"filings": [f.filename for f in ctx.filings], "failed": ctx.failed, "word": inp.word})


def _dated(inp: Word, ctx: ToolContext) -> ToolOutcome:
    return ToolOutcome({"on": date(2024, 9, 28), "word": inp.word})


def _broken(inp: Word, ctx: ToolContext) -> ToolOutcome:
    raise KeyError(inp.word)


TOOLBOX = Toolbox([
    Tool("context", "what the tool sees", Word, _context),
    Tool("dated", "a result holding a date", Word, _dated),
    Tool("broken", "always fails", Word, _broken),
    *OUTPUT_TOOLS,
])


class Recording(ScriptedProvider):
    """The scripted provider, keeping each request exactly as the agent built it."""

    def __init__(self, steps=(), model: str | None = None) -> None:
        super().__init__(steps)
        self.raw: list[ProviderRequest] = []
        if model is not None:
            self.model = model

    async def stream(self, request: ProviderRequest):
        self.raw.append(request)
        async for part in super().stream(request):
            yield part


def turn(**kw) -> Turn:
    return Turn(kw.pop("conversation_id", "conv"), "msg", kw.pop("messages", [{"role": "user", "content": "q"}]), **kw)


async def run(provider, t: Turn | None = None, **kw):
    return [e async for e in run_turn(provider, TOOLBOX, t or turn(), **kw)]


def usage(i: int, o: int, cw: int = 0, cr: int = 0) -> dict:
    return {"input_tokens": i, "output_tokens": o, "cache_creation_input_tokens": cw, "cache_read_input_tokens": cr}


def answer(text: str, stop: str | None = "end_turn", u: dict | None = None, model: str | None = None,
           content: list | None = None) -> list:
    return [TextPart(text), BlockStop(0), Finish(stop, u or usage(10, 5), content=content, model=model)]


APPLE = Filing(filename="aapl-10-k.htm", format="ixbrl", company="Apple Inc.", form="10-K",
               period_end=date(2024, 9, 28))
SCAN = Filing(filename="scan.pdf", format="pdf")
FAILED = [{"filename": "bad.xlsx", "error": "not a spreadsheet"}]


# ---------------------------------------------------------------- what the model is sent


def test_system_prompt_names_every_filing_and_every_unreadable_upload():
    prompt = system_prompt([APPLE, SCAN], FAILED)
    assert prompt.startswith(SYSTEM_PROMPT + "\n\nUploaded filings:\n")
    assert prompt.endswith(
        "\n- aapl-10-k.htm: Apple Inc., 10-K, period ending 2024-09-28"
        "\n- scan.pdf: unknown company, pdf"
        "\n\nUploads that could not be read (say so if asked about them; never answer from "
        "another company's filing):\n- bad.xlsx: not a spreadsheet"
    )
    assert system_prompt([APPLE]) == SYSTEM_PROMPT + (
        "\n\nUploaded filings:\n- aapl-10-k.htm: Apple Inc., 10-K, period ending 2024-09-28")


def test_system_prompt_without_filings_asks_for_an_upload_and_still_names_failures():
    empty = SYSTEM_PROMPT + "\n\nNo filings are uploaded yet; ask the user to upload one."
    assert system_prompt([]) == empty
    assert system_prompt([], []) == empty
    assert system_prompt([], FAILED).startswith(empty + "\n\nUploads that could not be read")
    assert system_prompt([], FAILED).endswith("\n- bad.xlsx: not a spreadsheet")


async def test_the_request_carries_prompt_tools_limits_effort_and_filings_and_tools_see_them():
    provider = Recording([tool_step(("context", {"word": "w"})), text_step("ok")])
    t = turn(filings=[APPLE, SCAN], failed=FAILED)
    events = await run(provider, t, max_tokens=777, model=HAIKU, effort="low")
    first = provider.raw[0]
    assert first.system == system_prompt([APPLE, SCAN], FAILED)
    assert first.tools == TOOLBOX.schemas()
    assert (first.max_tokens, first.model, first.effort) == (777, HAIKU, "low")
    assert first.messages[0] == {"role": "user", "content": "q"}
    done = next(e for e in events if e.type == "tool_complete")
    assert done.result == {"filings": ["aapl-10-k.htm", "scan.pdf"], "failed": FAILED, "word": "w"}
    assert done.input == {"word": "w"} and done.error is None
    # The turn's own lists are not the ones the loop extends.
    assert t.messages == [{"role": "user", "content": "q"}]
    assert events[0].type == "message_start" and events[0].conversation_id == "conv"


def _history(result_chars: int) -> list[dict]:
    return [
        {"role": "user", "content": "Revenue?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "context", "input": {"word": "a"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x" * result_chars}]},
        {"role": "assistant", "content": [{"type": "text", "text": "It rose."}]},
        {"role": "user", "content": "And margins?"},
    ]


async def test_history_is_trimmed_to_the_window_less_the_output_limit():
    # ~150k tokens of an old tool result: fits a 200k window beside 1k of output, not beside 100k.
    history = _history(450_000)
    provider = Recording([text_step("ok")], model=HAIKU)
    events = await run(provider, turn(messages=history), max_tokens=100_000)
    status = [e for e in events if e.type == "status"]
    assert [e.message for e in status] == [
        "Trimmed 1 older tool result(s) to fit the model's context window."]
    assert status[0].seq == 2
    sent = provider.raw[0].messages
    assert sent[2]["content"][0]["content"] == transcript.TRIMMED.format(n=450_000)
    assert sent[-1] == {"role": "user", "content": "And margins?"}
    assert history[2]["content"][0]["content"] == "x" * 450_000  # the caller's copy is untouched

    provider = Recording([text_step("ok")], model=HAIKU)
    events = await run(provider, turn(messages=_history(450_000)), max_tokens=1_000)
    assert not [e for e in events if e.type == "status"]
    assert provider.raw[0].messages[2]["content"][0]["content"] == "x" * 450_000


async def test_the_budget_counts_the_system_prompt_and_the_tools():
    # The history alone fits (just); with the prompt and the tool schemas it does not.
    fixed = transcript.estimate_tokens(system_prompt([])) + transcript.estimate_tokens(TOOLBOX.schemas())
    budget = 200_000 - 1_000
    size = sum(transcript.estimate_tokens(m["content"]) for m in _history(3))
    history = _history(3 * (budget - size - fixed // 2))
    assert sum(transcript.estimate_tokens(m["content"]) for m in history) <= budget
    provider = Recording([text_step("ok")], model=HAIKU)
    events = await run(provider, turn(messages=history), max_tokens=1_000)
    assert [e.type for e in events].count("status") == 1


async def test_a_model_named_only_in_the_call_sets_the_budget():
    provider = Recording([text_step("ok")])  # no configured model
    events = await run(provider, turn(messages=_history(450_000)), max_tokens=100_000, model=HAIKU)
    assert [e.type for e in events].count("status") == 1
    provider = Recording([text_step("ok")])  # no model at all: nothing to budget against
    events = await run(provider, turn(messages=_history(450_000)), max_tokens=100_000)
    assert [e.type for e in events].count("status") == 0


# ---------------------------------------------------------------- usage and cost


async def test_usage_adds_up_over_rounds_with_the_cost_of_each():
    provider = Recording([
        tool_step(("context", {"word": "a"})) [:-1] + [Finish("tool_use", usage(100, 10, 1000, 2000), model=HAIKU)],
        answer("Done.", u=usage(1, 2, 3, 4), model=HAIKU),
    ])
    final = (await run(provider))[-1]
    u = final.usage
    assert (u.input_tokens, u.output_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens) == (
        101, 12, 1003, 2004)
    # (100*1 + 1000*1.25 + 2000*0.10 + 10*5)/1e6 + (1*1 + 3*1.25 + 4*0.10 + 2*5)/1e6 = 0.00161515
    assert u.cost_usd == 0.001615
    assert u.model == HAIKU


async def test_missing_usage_counts_are_zero_and_the_configured_model_prices_the_round():
    provider = Recording([answer("ok", u={"input_tokens": 1_000_000, "output_tokens": None})], model=HAIKU)
    u = (await run(provider))[-1].usage
    assert (u.input_tokens, u.output_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens) == (
        1_000_000, 0, 0, 0)
    assert u.cost_usd == 1.0 and u.model == HAIKU


async def test_one_unpriced_round_makes_the_cost_unknown_not_wrong():
    for models in (("no-such-model", HAIKU), (HAIKU, "no-such-model")):
        provider = Recording([
            tool_step(("context", {"word": "a"}))[:-1] + [Finish("tool_use", usage(10, 5), model=models[0])],
            answer("Done.", model=models[1]),
        ])
        u = (await run(provider))[-1].usage
        assert u.cost_usd is None, models
        assert (u.input_tokens, u.output_tokens) == (20, 10)
        assert u.model == models[1]


async def test_the_model_that_answered_is_kept_when_a_later_round_names_none():
    provider = Recording([
        tool_step(("context", {"word": "a"}))[:-1] + [Finish("tool_use", usage(10, 5), model=HAIKU)],
        answer("Done."),
    ])
    u = (await run(provider))[-1].usage
    assert u.model == HAIKU and u.cost_usd is None  # the second round had no price


async def test_a_provider_error_keeps_the_tokens_the_cut_message_used():
    error = ProviderError("overloaded", "Claude is overloaded", retryable=False)
    error.usage = usage(1_000_000, 0)
    error.model = HAIKU
    events = await run(Recording([[TextPart("Partial "), error]]))
    assert [e.type for e in events] == ["message_start", "text_delta", "error", "message_complete"]
    err, done = events[-2:]
    assert (err.code, err.message, err.retryable) == ("overloaded", "Claude is overloaded", False)
    assert (done.success, done.stop_reason) == (False, "error")
    assert done.usage.input_tokens == 1_000_000 and done.usage.cost_usd == 1.0 and done.usage.model == HAIKU
    # Without the model on the error, the configured one prices it; without usage, nothing is added.
    error = ProviderError("overloaded", "busy", retryable=True)
    error.usage = usage(1_000_000, 0)
    done = (await run(Recording([[error]], model=HAIKU)))[-1]
    assert done.usage.cost_usd == 1.0 and done.usage.model == HAIKU
    done = (await run(Recording([[ProviderError("overloaded", "busy", retryable=True)]], model=HAIKU)))[-1]
    assert done.usage.input_tokens == 0 and done.usage.model is None


# ---------------------------------------------------------------- how a turn ends


async def test_an_unexpected_exception_is_named_and_retryable():
    events = await run(Recording([[TextPart("a"), ValueError("parser exploded")]]))
    err, done = events[-2:]
    assert (err.code, err.message, err.retryable) == ("internal", "ValueError: parser exploded", True)
    assert (done.type, done.success, done.stop_reason) == ("message_complete", False, "error")


@pytest.mark.parametrize("stop,code,message,retryable,stop_reason", [
    (None, "incomplete_stream", "The model's stream ended before the answer was complete.", True, "incomplete"),
    ("max_tokens", "max_tokens", "The answer reached the output limit; it can be continued.", True, "max_tokens"),
    ("model_context_window_exceeded", "context_window",
     "The conversation reached the model's context window; the answer is incomplete and can be continued "
     "(older tool results are then trimmed).", True, "model_context_window_exceeded"),
    ("refusal", "refusal", "The model declined to answer this request.", False, "refusal"),
])
async def test_each_stop_reason_that_is_not_an_answer(stop, code, message, retryable, stop_reason):
    recorded = []

    async def record(messages, meta):
        recorded.append(messages)

    provider = Recording([answer("Half", stop=stop, u=usage(3, 4))])
    events = [e async for e in run_turn(provider, TOOLBOX, turn(), record=record)]
    assert [e.type for e in events] == ["message_start", "text_delta", "error", "message_complete"]
    err, done = events[-2:]
    assert (err.code, err.message, err.retryable) == (code, message, retryable)
    assert (done.success, done.stop_reason) == (False, stop_reason)
    assert (done.usage.input_tokens, done.usage.output_tokens) == (3, 4)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert recorded == []  # nothing incomplete goes into the transcript
    provider.assert_consumed()


async def test_a_stream_that_never_finishes_is_incomplete():
    events = await run(Recording([[TextPart("Half an ans")]]))
    assert (events[-2].code, events[-1].stop_reason) == ("incomplete_stream", "incomplete")


async def test_rounds_are_bounded_with_a_message_naming_the_limit():
    provider = Recording([tool_step(("context", {"word": "again"})) for _ in range(2)])
    events = await run(provider, max_rounds=2)
    err, done = events[-2:]
    assert (err.code, err.retryable) == ("max_rounds", True)
    assert err.message == "Stopped after 2 rounds of tool calls without a final answer."
    assert (done.success, done.stop_reason) == (False, "max_rounds")
    provider.assert_consumed()


async def test_an_answer_ends_with_its_stop_reason_and_the_turns_usage():
    events = await run(Recording([answer("Fine.", stop="stop_sequence")]))
    done = events[-1]
    assert (done.type, done.success, done.stop_reason) == ("message_complete", True, "stop_sequence")
    assert [e.type for e in events] == ["message_start", "text_delta", "message_complete"]


# ---------------------------------------------------------------- tools


async def test_tool_results_and_errors_as_the_model_gets_them():
    provider = Recording([
        tool_step(("dated", {"word": "a"}), ("broken", {"word": "b"}), ("context", {"nope": 1}),
                  ("dated", '{"word": "c"} junk')),
        text_step("ok"),
    ])
    events = await run(provider)
    completes = [e for e in events if e.type == "tool_complete"]
    assert [(e.tool_id, e.tool_name) for e in completes] == [
        ("toolu_00", "dated"), ("toolu_01", "broken"), ("toolu_02", "context"), ("toolu_03", "dated")]
    assert completes[0].result == {"on": date(2024, 9, 28), "word": "a"}
    assert completes[0].input == {"word": "a"} and completes[0].error is None
    assert completes[1].error == "broken failed: KeyError: 'b'"
    assert all(e.input is None and e.result is None for e in completes[1:])
    starts = [e for e in events if e.type == "tool_start"]
    assert [(e.tool_id, e.tool_name) for e in starts] == [(e.tool_id, e.tool_name) for e in completes]
    results = provider.raw[1].messages[-1]["content"]
    assert results[0] == {"type": "tool_result", "tool_use_id": "toolu_00",
                          "content": json.dumps({"on": "2024-09-28", "word": "a"})}
    assert results[1] == {"type": "tool_result", "tool_use_id": "toolu_01", "is_error": True,
                          "content": 'Error: broken failed: KeyError: \'b\'. You sent: {"word": "b"}'}
    assert results[2]["is_error"] is True and results[2]["content"].startswith("Error: ")
    assert results[2]["content"].endswith('. You sent: {"nope": 1}')
    assert results[3]["is_error"] is True and results[3]["content"].endswith('. You sent: {"word": "c"} junk')
    assert not [e for e in events if e.type in ("chart_ready", "table_ready", "metric_ready")]


async def test_artifacts_are_numbered_per_kind_from_the_messages_own_count():
    provider = Recording([
        tool_step(("create_chart", CHART), ("create_metric", METRIC), ("create_chart", CHART),
                  ("create_metric", {"label": "x"})),
        text_step("ok"),
    ])
    events = await run(provider, turn(artifact_counts={"metric": 5}))
    charts = [e.chart_index for e in events if e.type == "chart_ready"]
    metrics = [e.metric_index for e in events if e.type == "metric_ready"]
    assert charts == [0, 1] and metrics == [5]  # the broken metric made no tile
    # Each artifact follows its own tool_complete.
    kinds = [e.type for e in events]
    assert kinds[kinds.index("chart_ready") - 1] == "tool_complete"


# ---------------------------------------------------------------- text, reasoning, notices


async def test_reasoning_runs_are_paragraphs_and_never_join_the_answer():
    parts = [ThinkingPart("Plan."), ThinkingPart(" More."), TextPart("Answer "), ThinkingPart("Again."),
             ToolUseStart(1, "t1", "context"), BlockStop(1), ThinkingPart("After the tool."),
             ThinkingPart(""), Finish("tool_use", usage(1, 1))]
    provider = Recording([parts, answer("done")])
    events = await run(provider)
    thoughts = [e.text for e in events if e.type == "thinking_delta"]
    assert thoughts == ["Plan.", " More.", "\n\nAgain.", "\n\nAfter the tool."]
    assert "".join(e.text for e in events if e.type == "text_delta") == "Answer done"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_a_later_rounds_text_is_a_new_paragraph_unless_the_text_ends_in_space():
    provider = Recording([tool_step(("context", {"word": "x"}), text="Looking.\n"),
                          [TextPart("Found "), TextPart("it."), BlockStop(0), Finish("end_turn", usage(1, 1))]])
    events = await run(provider)
    assert "".join(e.text for e in events if e.type == "text_delta") == "Looking.\nFound it."
    provider = Recording([tool_step(("context", {"word": "x"}), text="Looking."),
                          [TextPart("Found "), TextPart("it."), BlockStop(0), Finish("end_turn", usage(1, 1))]])
    deltas = [e.text for e in await run(provider) if e.type == "text_delta"]
    assert deltas == ["Looking.", "\n\nFound ", "it."]


async def test_a_continuation_goes_on_exactly_where_the_text_stopped():
    provider = Recording([[TextPart("% in FY2024."), BlockStop(0), Finish("end_turn", usage(1, 1))]])
    events = await run(provider, turn(prefix_text="Revenue rose 2", seq_start=7))
    # The text goes on from the prefix; accumulated_text is the tailer's to fill, never the loop's.
    assert events[1].text == "% in FY2024." and events[1].accumulated_text is None
    assert [e.seq for e in events] == [7, 8, 9]


async def test_provider_notices_are_status_events():
    provider = Recording([[Notice("Claude is overloaded; retrying in 2 s"), *answer("ok")]])
    events = await run(provider)
    assert [(e.type, getattr(e, "message", None)) for e in events[:2]] == [
        ("message_start", None), ("status", "Claude is overloaded; retrying in 2 s")]


# ---------------------------------------------------------------- the transcript recorder


async def test_the_recorder_is_told_each_response_as_the_api_has_it():
    recorded: list[tuple[list, dict]] = []

    async def record(messages, meta):
        recorded.append((messages, meta))

    signed = [{"type": "thinking", "thinking": "hm", "signature": "sig"}, {"type": "text", "text": "Done."}]
    provider = Recording([
        tool_step(("context", {"word": "a"}), text="Let me look. "),
        answer("Done.", content=signed, model=HAIKU),
    ], model="claude-sonnet-5")
    events = [e async for e in run_turn(provider, TOOLBOX, turn(), record=record)]
    assert events[-1].success
    (first, meta1), (second, meta2) = recorded
    assert first[0] == {"role": "assistant", "content": [
        {"type": "text", "text": "Let me look. "},
        {"type": "tool_use", "id": "toolu_01", "name": "context", "input": {"word": "a"}}]}
    assert first[1]["role"] == "user" and first[1]["content"][0]["tool_use_id"] == "toolu_01"
    assert len(first) == 2
    key = transcript.system_key(system_prompt([]))
    assert meta1 == {"model": "claude-sonnet-5", "system": key, "text_end": len("Let me look. ")}
    # The final response goes back as received (thinking and signature included), alone.
    assert second == [{"role": "assistant", "content": signed}]
    assert meta2 == {"model": HAIKU, "system": key, "text_end": len("Let me look. Done.")}
    # What was recorded is what the next round was sent.
    assert provider.raw[1].messages[1:] == first


async def test_a_paused_turn_is_recorded_and_sent_back_without_tool_results():
    recorded = []

    async def record(messages, meta):
        recorded.append(messages)

    provider = Recording([answer("Thinking... ", stop="pause_turn"), answer("answer")])
    events = [e async for e in run_turn(provider, TOOLBOX, turn(), record=record)]
    assert events[-1].success
    assert recorded[0] == [{"role": "assistant", "content": [{"type": "text", "text": "Thinking... "}]}]
    assert provider.raw[1].messages[-1] == recorded[0][0]
    assert len(provider.raw[1].messages) == 2


async def test_an_empty_answer_records_nothing():
    recorded = []

    async def record(messages, meta):
        recorded.append(messages)

    events = [e async for e in run_turn(Recording([[BlockStop(0), Finish("end_turn", usage(1, 1))]]), TOOLBOX,
                                        turn(), record=record)]
    assert events[-1].success and recorded == []


async def test_a_recorder_failure_ends_the_turn_as_a_storage_error():
    async def record(messages, meta):
        raise OSError("disk full")

    provider = Recording([tool_step(("context", {"word": "a"})), text_step("never")])
    events = [e async for e in run_turn(provider, TOOLBOX, turn(), record=record)]
    err, done = events[-2:]
    assert (err.code, err.retryable) == ("storage", True)
    assert err.message == "Could not store the model's response (OSError)."
    assert (done.success, done.stop_reason) == (False, "error")
    assert len(provider.raw) == 1  # no further round on an unrecorded history


async def test_cancelling_while_recording_propagates():
    async def record(messages, meta):
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        [e async for e in run_turn(Recording([text_step("x")]), TOOLBOX, turn(), record=record)]


# ---------------------------------------------------------------- the check of the text


REVENUE = Fact(concept="us-gaap:Revenues", label="Revenues", value=391_035_000_000, period_start=date(2023, 10, 1),
               period_end=date(2024, 9, 28), fiscal_year=2024, fiscal_period="FY", decimals=-6,
               source=Source(document="aapl-10-k.htm", concept="us-gaap:Revenues", period="FY2024"))


async def test_the_numbers_of_a_finished_answer_are_checked_before_it_completes():
    apple = APPLE.model_copy(update={"facts": [REVENUE]})
    events = await run(Recording([text_step("Revenue was $391.0B in FY2024.")]), turn(filings=[apple]))
    check, done = events[-2:]
    assert (check.type, check.scope) == ("verification", "text")
    assert [c.status for c in check.checks] == ["verified"]
    assert done.type == "message_complete" and done.success and check.seq + 1 == done.seq
    # No numbers, or nothing to check them against: no verification event.
    events = await run(Recording([text_step("Revenue rose.")]), turn(filings=[apple]))
    assert "verification" not in [e.type for e in events]
    events = await run(Recording([text_step("Revenue was $391.0B in FY2024.")]))
    assert "verification" not in [e.type for e in events]


# ---------------------------------------------------------------- limits and numbering, continued


async def test_the_default_limits_are_4096_tokens_and_8_rounds():
    provider = Recording([tool_step(("context", {"word": "again"})) for _ in range(8)])
    events = await run(provider)
    assert provider.raw[0].max_tokens == 4096 and len(provider.raw) == 8
    assert events[-2].message == "Stopped after 8 rounds of tool calls without a final answer."
    provider.assert_consumed()


async def test_a_million_token_window_takes_what_a_200k_one_trims():
    # ~300k tokens of old tool result: over Haiku 4.5's 200k window, within Sonnet 5.5's million.
    provider = Recording([text_step("ok")], model="claude-sonnet-5-5")
    events = await run(provider, turn(messages=_history(900_000)))
    assert [e.type for e in events].count("status") == 0
    provider = Recording([text_step("ok")], model=HAIKU)
    events = await run(provider, turn(messages=_history(900_000)))
    assert [e.type for e in events].count("status") == 1


async def test_the_system_prompt_alone_can_tip_the_budget():
    system = transcript.estimate_tokens(system_prompt([]))
    tools = transcript.estimate_tokens(TOOLBOX.schemas())
    budget = 200_000 - 1_000
    size = sum(transcript.estimate_tokens(m["content"]) for m in _history(3))
    # History and tools fit with room for half the system prompt, not for all of it.
    history = _history(3 * (budget - size - tools - system // 2))
    provider = Recording([text_step("ok")], model=HAIKU)
    events = await run(provider, turn(messages=history), max_tokens=1_000)
    assert [e.type for e in events].count("status") == 1


def test_every_unreadable_upload_is_named_on_its_own_line():
    failed = [{"filename": "a.xlsx", "error": "not a spreadsheet"}, {"filename": "b.pdf", "error": "encrypted"}]
    assert system_prompt([APPLE], failed).endswith(
        "filing):\n- a.xlsx: not a spreadsheet\n- b.pdf: encrypted")


TABLE = {"title": "Revenue", "columns": [{"name": "Year", "format": "text"}, {"name": "USD", "format": "currency"}],
         "rows": [["FY2024", 391.0]]}


async def test_each_kind_of_artifact_counts_from_zero_on_its_own():
    provider = Recording([
        tool_step(("create_table", TABLE), ("create_chart", CHART), ("create_chart", CHART), ("create_chart", CHART),
                  ("create_table", TABLE)),
        text_step("ok"),
    ])
    events = await run(provider)
    assert [e.table_index for e in events if e.type == "table_ready"] == [0, 1]
    assert [e.chart_index for e in events if e.type == "chart_ready"] == [0, 1, 2]
