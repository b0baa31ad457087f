"""ClaudeProvider against the replay server: the real SDK, real sockets, one test per quirk."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from anthropic_replay import (
    Chunk,
    Reply,
    dropped_mid_stream,
    error_after_200,
    http_error,
    max_tokens_in_tool,
    no_message_stop,
    no_response,
    pause_turn,
    refusal,
    stalled,
    text_turn,
    tool_turn,
)
from replay_scripts import PING, UNKNOWN, ev, message_end, message_start, stream_reply, text_block

from finstream.assembler import Assembler, ToolReady
from finstream.providers.base import (
    BlockStop,
    Finish,
    Notice,
    ProviderError,
    ProviderRequest,
    TextPart,
    ToolInputDelta,
    ToolUseStart,
)
from finstream.providers.claude import ClaudeProvider

CHART = {
    "title": 'Revenue "FY" \\ trend',
    "chart_type": "bar",
    "x": ["FY2023", "FY2024"],
    "series": [{"name": "Revenue — total", "values": [383285000000.0, 391035000000.0]}],
}
METRIC = {"label": "Revenue FY2024", "value": 391035000000.0, "unit": "USD", "delta": 2.02}


def request(**kw) -> ProviderRequest:
    return ProviderRequest(
        system=kw.pop("system", "You are a test."),
        messages=kw.pop("messages", [{"role": "user", "content": "How did revenue change?"}]),
        tools=kw.pop("tools", []),
        max_tokens=kw.pop("max_tokens", 512),
    )


async def collect(provider: ClaudeProvider, req: ProviderRequest | None = None):
    """All parts the provider yields, and the ProviderError that ended it (if any)."""
    parts = []
    try:
        async for part in provider.stream(req or request()):
            parts.append(part)
    except ProviderError as exc:
        return parts, exc
    return parts, None


def merged(parts) -> list:
    """Parts with runs of TextParts joined: the provider may merge text that arrived together
    (when its consumer is busy), so tests compare text runs, not how the bytes were batched."""
    out: list = []
    for part in parts:
        if isinstance(part, TextPart) and out and isinstance(out[-1], TextPart):
            out[-1] = TextPart(out[-1].text + part.text)
        else:
            out.append(part)
    return out


def texts(parts) -> list[str]:
    return [p.text for p in merged(parts) if isinstance(p, TextPart)]


def assert_runs_of(parts, pieces: list[str]) -> None:
    """Each TextPart is whole deltas, in order: merging never splits or reorders text."""
    pending = list(pieces)
    for run in (p.text for p in parts if isinstance(p, TextPart)):
        taken = ""
        while pending and len(taken) < len(run):
            taken += pending.pop(0)
        assert taken == run, f"{run!r} is not a run of whole deltas"
    assert not pending, f"deltas never delivered: {pending}"


async def test_text_deltas_arrive_in_order_with_usage(replay, claude, api_key):
    replay.enqueue(text_turn(["Rev", "enue ", "grew ", "2.0%", "."], input_tokens=31))
    parts, error = await collect(
        claude(), request(tools=[{"name": "t", "input_schema": {"type": "object"}}])
    )
    assert error is None
    assert_runs_of(parts, ["Rev", "enue ", "grew ", "2.0%", "."])
    served = replay.rules.log[0]  # what the (strict) server counted for this request
    assert merged(parts) == [
        TextPart("Revenue grew 2.0%."),
        BlockStop(0),
        Finish(
            "end_turn",
            {**served, "output_tokens": 5},
            [{"type": "text", "text": "Revenue grew 2.0%."}],
            "claude-sonnet-5-5",
        ),
    ]
    sent = replay.requests[0]
    assert sent.body["model"] == "claude-sonnet-5-5" and sent.body["stream"] is True
    assert sent.body["system"] == [
        {"type": "text", "text": "You are a test.", "cache_control": {"type": "ephemeral"}}
    ]
    assert sent.body["max_tokens"] == 512
    assert sent.body["tools"][0]["name"] == "t"
    assert api_key in (sent.headers.get("x-api-key", "") + sent.headers.get("authorization", ""))
    # Our retry policy, not the SDK's: it must not retry behind our back.
    assert sent.headers["x-stainless-retry-count"] == "0"


async def test_several_tool_blocks_with_json_split_into_odd_fragments(replay, claude):
    chart, metric = json.dumps(CHART, ensure_ascii=False), json.dumps(METRIC)
    replay.enqueue(
        tool_turn(
            [("create_chart", chart), ("create_metric", metric)],
            text="Here it is.",
            ids=["tu_a", "tu_b"],
        )
    )
    parts, error = await collect(claude())
    assert error is None
    assert texts(parts) == ["Here it is."]
    starts = [p for p in parts if isinstance(p, ToolUseStart)]
    assert starts == [
        ToolUseStart(1, "tu_a", "create_chart"),
        ToolUseStart(2, "tu_b", "create_metric"),
    ]
    for index, raw in ((1, chart), (2, metric)):
        fragments = [
            p.partial_json for p in parts if isinstance(p, ToolInputDelta) and p.index == index
        ]
        assert fragments[0] == ""  # as the API sends it: the first fragment is empty
        assert len(fragments) > 5 and "".join(fragments) == raw  # passed through raw, unparsed
    # Each block closes before the next opens; the message ends with tool_use.
    order = [
        (type(p).__name__, getattr(p, "index", None))
        for p in parts
        if isinstance(p, (ToolUseStart, BlockStop))
    ]
    assert order == [
        ("BlockStop", 0),
        ("ToolUseStart", 1),
        ("BlockStop", 1),
        ("ToolUseStart", 2),
        ("BlockStop", 2),
    ]
    finish = parts[-1]
    assert isinstance(finish, Finish) and finish.stop_reason == "tool_use"
    assert finish.content == [
        {"type": "text", "text": "Here it is."},
        {"type": "tool_use", "id": "tu_a", "name": "create_chart", "input": CHART},
        {"type": "tool_use", "id": "tu_b", "name": "create_metric", "input": METRIC},
    ]


async def test_ping_unknown_events_and_unknown_deltas_are_ignored(replay, claude):
    odd_delta = ev(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "future_delta", "x": 1}}
    )
    odd_block = ev(
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "future_block", "data": "z"},
        }
    )
    frames = [
        PING,
        message_start(),
        UNKNOWN,
        *text_block(0, ["a", "b"])[:2],
        PING,
        odd_delta,
        UNKNOWN,
        *text_block(0, ["a", "b"])[2:],
        odd_block,
        ev({"type": "content_block_stop", "index": 1}),
        PING,
        *message_end("end_turn", 2),
        UNKNOWN,
    ]
    replay.enqueue(stream_reply(frames))
    parts, error = await collect(claude())
    assert error is None
    assert [type(p).__name__ for p in merged(parts)] == [
        "TextPart",
        "BlockStop",
        "BlockStop",
        "Finish",
    ]
    assert texts(parts) == ["ab"] and parts[-1].stop_reason == "end_turn"
    # A block type we do not know is sent back as it came.
    assert parts[-1].content == [
        {"type": "text", "text": "ab"},
        {"type": "future_block", "data": "z"},
    ]


async def test_sse_frames_split_across_network_writes(replay, claude):
    """Bytes arrive at arbitrary boundaries (mid-line, mid-UTF-8 character); the text is whole."""
    whole = text_turn(["Umsatz ", "stieg ", "um ", "2 % — gut."]).body
    cuts = [1, 9, 10, 33, 34, 35, 100, 101, 250, 251, 252, 400, 401, len(whole) - 3]
    pieces = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]
    replay.enqueue(Reply(chunks=tuple(Chunk(p, 0.002) for p in pieces)))
    parts, error = await collect(claude())
    assert error is None and "".join(texts(parts)) == "Umsatz stieg um 2 % — gut."


@pytest.mark.parametrize("close_block", [False, True], ids=["block-left-open", "block-closed"])
async def test_tool_call_cut_by_max_tokens(replay, claude, close_block):
    raw = json.dumps(METRIC)
    replay.enqueue(max_tokens_in_tool("create_metric", raw, cut_at=29, close_block=close_block))
    parts, error = await collect(claude())
    assert error is None
    fragments = [p.partial_json for p in parts if isinstance(p, ToolInputDelta)]
    assert "".join(fragments) == raw[:29]
    assert (BlockStop(1) in parts) is close_block
    finish = parts[-1]
    assert isinstance(finish, Finish) and finish.stop_reason == "max_tokens"
    # The broken input goes back as {} (the API wants an object); the assembler reports it.
    assert finish.content[-1] == {
        "type": "tool_use",
        "id": "toolu_replay_cut",
        "name": "create_metric",
        "input": {},
    }
    asm = Assembler()
    ready = [a.call for p in parts for a in asm.feed(p) if isinstance(a, ToolReady)]
    assert len(ready) == 1 and ready[0].input is None and ready[0].error


async def test_error_event_after_http_200_keeps_the_partial_answer(replay, claude):
    replay.enqueue(error_after_200("overloaded_error", "Overloaded", text="Revenue grew "))
    parts, error = await collect(claude())
    assert texts(parts) == ["Revenue grew "]
    assert error is not None and error.code == "overloaded" and error.retryable
    assert "overloaded_error" in error.message and "continued" in error.message
    assert "req_replay_" in error.message  # the request id helps support
    assert len(replay.requests) == 1  # output had begun: no silent retry


async def test_error_event_before_any_output_is_retried(replay, claude):
    replay.enqueue(error_after_200("overloaded_error", text=""), text_turn("Fine now."))
    parts, error = await collect(claude())
    assert error is None
    assert isinstance(parts[0], Notice) and "overloaded_error" in parts[0].message
    assert texts(parts) == ["Fine now."] and len(replay.requests) == 2


async def test_non_retryable_error_event_after_200(replay, claude):
    replay.enqueue(error_after_200("invalid_request_error", "prompt is too long", text="x"))
    parts, error = await collect(claude())
    assert error.code == "stream_error" and not error.retryable
    assert "prompt is too long" in error.message


@pytest.mark.parametrize("how", ["close", "reset"])
async def test_dropped_connection_mid_stream(replay, claude, how):
    replay.enqueue(dropped_mid_stream("Revenue grew by ", how=how))
    parts, error = await collect(claude())
    assert texts(parts) == ["Revenue grew by "]
    assert error is not None and error.code == "connection_lost" and error.retryable
    assert "lost mid-answer" in error.message
    assert not any(isinstance(p, Finish) for p in parts)


async def test_connection_dropped_before_output_is_retried(replay, claude):
    replay.enqueue(Reply(chunks=(Chunk(message_start()),), end="close"), text_turn("Recovered."))
    parts, error = await collect(claude())
    assert error is None and isinstance(parts[0], Notice) and "dropped" in parts[0].message
    assert texts(parts) == ["Recovered."]


async def test_stalled_stream_hits_the_read_timeout(replay, claude):
    replay.enqueue(stalled("Revenue grew "))
    parts, error = await collect(claude(FINSTREAM_READ_TIMEOUT=0.3))
    assert texts(parts) == ["Revenue grew "]
    assert error is not None and error.code == "stalled" and error.retryable
    assert "0.3 s" in error.message and "FINSTREAM_READ_TIMEOUT" in error.message


@pytest.mark.parametrize("with_message_delta", [False, True])
async def test_stream_without_message_stop_finishes_with_no_stop_reason(
    replay, claude, with_message_delta
):
    replay.enqueue(no_message_stop("Revenue grew by 2%.", with_message_delta=with_message_delta))
    parts, error = await collect(claude())
    assert error is None
    assert "".join(texts(parts)) == "Revenue grew by 2%."
    assert isinstance(parts[-1], Finish) and parts[-1].stop_reason is None


@pytest.mark.parametrize(
    "header", [{"retry_after_ms": 20}, {"retry_after": 0}, {"retry_after": "0.01"}]
)
async def test_429_then_success_honours_retry_after(replay, claude, header):
    replay.enqueue(http_error(429, **header), text_turn("Done."))
    parts, error = await collect(claude())
    assert error is None
    notice = parts[0]
    assert isinstance(notice, Notice)
    assert "rate limit" in notice.message and "retry 1 of 3" in notice.message
    assert texts(parts) == ["Done."] and len(replay.requests) == 2
    assert replay.requests[1].body == replay.requests[0].body  # the same question, asked again


async def test_529_exhausted_gives_a_clear_error(replay, claude):
    replay.enqueue(*[http_error(529) for _ in range(3)])
    parts, error = await collect(claude(FINSTREAM_MAX_RETRIES=2))
    assert [type(p) for p in parts] == [Notice, Notice]
    assert "overloaded" in parts[0].message and "retry 2 of 2" in parts[1].message
    assert error.code == "overloaded" and error.retryable
    assert "HTTP 529" in error.message and "gave up after 2 retries" in error.message


@pytest.mark.parametrize("status", [500, 504])
async def test_server_errors_are_retried(replay, claude, status):
    replay.enqueue(http_error(status), text_turn("ok"))
    parts, error = await collect(claude())
    assert error is None and isinstance(parts[0], Notice) and texts(parts) == ["ok"]


async def test_spend_cap_429_without_retry_after_fails_at_once(replay, claude):
    replay.enqueue(http_error(429, message="You have reached your specified API usage limits."))
    parts, error = await collect(claude())
    assert parts == [] and len(replay.requests) == 1
    assert error.code == "rate_limited" and not error.retryable
    assert "usage limits" in error.message and "no retry-after" in error.message


async def test_retry_after_longer_than_the_cap_fails_at_once(replay, claude):
    replay.enqueue(http_error(529, retry_after=120))
    parts, error = await collect(claude())
    assert parts == [] and error.code == "overloaded" and error.retryable
    assert "120 s" in error.message and "FINSTREAM_RETRY_MAX_WAIT" in error.message


async def test_bad_request_is_not_retried(replay, claude):
    replay.enqueue(http_error(400, message="messages: roles must alternate"))
    parts, error = await collect(claude())
    assert parts == [] and error.code == "invalid_request" and not error.retryable
    assert "roles must alternate" in error.message


async def test_refusal_stop_reason(replay, claude):
    replay.enqueue(refusal("I can't help with that."))
    parts, error = await collect(claude())
    assert error is None and parts[-1].stop_reason == "refusal"


async def test_pause_turn_returns_content_to_continue_with(replay, claude):
    replay.enqueue(pause_turn("Let me look that up."))
    parts, error = await collect(claude())
    assert error is None
    # The server tool is the API's own business: no ToolUseStart, no fragments for the assembler.
    assert not any(isinstance(p, (ToolUseStart, ToolInputDelta)) for p in parts)
    finish = parts[-1]
    assert finish.stop_reason == "pause_turn"
    assert finish.content == [
        {"type": "text", "text": "Let me look that up."},
        {
            "type": "server_tool_use",
            "id": "srvtoolu_replay_1",
            "name": "web_search",
            "input": {"query": "Apple revenue FY2024"},
        },
    ]


async def test_wrong_key_is_an_auth_error_that_never_shows_the_key(replay, claude, api_key):
    replay.api_key = "sk-ant-the-right-one"
    parts, error = await collect(claude())
    assert parts == [] and error.code == "auth" and not error.retryable
    assert "ANTHROPIC_API_KEY" in error.message and "invalid x-api-key" in error.message
    for text in (error.message, str(error), repr(error), repr(claude())):
        assert api_key not in text


FAILURES = {
    "401": lambda key: http_error(401),
    "400-echoing-the-key": lambda key: http_error(400, message=f"malformed header: Bearer {key}"),
    "error-event-echoing-the-key": lambda key: error_after_200("api_error", f"upstream saw {key}"),
    "429-spend-cap": lambda key: http_error(429),
    "dropped": lambda key: dropped_mid_stream(),
}


@pytest.mark.parametrize("failure", FAILURES)
async def test_the_key_never_appears_in_error_messages(replay, claude, api_key, failure):
    replay.enqueue(FAILURES[failure](api_key))
    parts, error = await collect(claude(FINSTREAM_MAX_RETRIES=0))
    assert error is not None
    assert api_key not in error.message and api_key not in str(error)
    assert all(api_key not in getattr(p, "message", "") for p in parts)


async def test_no_key_configured(replay):
    from finstream.settings import Settings

    provider = ClaudeProvider(Settings(_env_file=None, ANTHROPIC_BASE_URL=replay.url))
    with pytest.raises(ProviderError) as info:
        async for _ in provider.stream(request()):
            pass
    assert info.value.code == "auth" and "ANTHROPIC_API_KEY is not set" in info.value.message


async def test_unreachable_server_is_retried_then_reported(claude):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    parts, error = await collect(
        claude(ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}", FINSTREAM_MAX_RETRIES=1)
    )
    assert [type(p) for p in parts] == [Notice] and "could not reach claude" in parts[
        0
    ].message.lower()
    assert (
        error.code == "connection_failed"
        and error.retryable
        and f"127.0.0.1:{port}" in error.message
    )


def test_one_provider_serves_several_event_loops(replay, claude):
    """Streamlit runs each write_stream generator on a new loop; the provider must follow."""
    provider = claude()
    replay.enqueue(text_turn("one"), text_turn("two"))
    first = asyncio.run(collect(provider))
    second = asyncio.run(collect(provider))
    assert texts(first[0]) == ["one"] and texts(second[0]) == ["two"]


async def test_text_that_arrived_together_is_merged_without_loss(replay, claude):
    """2,000 deltas written at once reach a busy consumer as a few parts, in order, nothing lost."""
    pieces = [f"w{i} " for i in range(2000)]
    replay.enqueue(Reply(chunks=(Chunk(text_turn(pieces).body),)))
    parts = []
    async for part in claude().stream(request()):
        parts.append(part)
        await asyncio.sleep(0)  # a consumer doing some work of its own
    text_parts = [p for p in parts if isinstance(p, TextPart)]
    assert "".join(p.text for p in text_parts) == "".join(pieces)
    assert len(text_parts) < 200  # far fewer parts than deltas: the backlog went out merged
    assert_runs_of(parts, pieces)
    assert parts[-1].stop_reason == "end_turn" and parts[-1].usage["output_tokens"] == 2000


async def test_a_consumer_that_stops_early_closes_the_stream(replay, claude):
    replay.enqueue(text_turn([f"w{i} " for i in range(500)]), text_turn("next"))
    provider = claude()
    stream = provider.stream(request())
    first = await anext(stream)
    await stream.aclose()  # e.g. the user pressed Stop
    assert isinstance(first, TextPart)
    parts, error = await collect(provider)  # the provider (and its connection pool) still works
    assert error is None and texts(parts) == ["next"]


async def test_malformed_event_data_is_a_readable_error(replay, claude):
    frames = [message_start(), *text_block(0, ["Revenue "], close=False)]
    frames.append(b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n')
    replay.enqueue(stream_reply(frames))
    parts, error = await collect(claude())
    assert texts(parts) == ["Revenue "]
    assert error.code == "bad_stream" and error.retryable and "could not be read" in error.message


async def test_deltas_for_blocks_that_never_started(replay, claude):
    """A text delta without its block start is still answer text; a stray fragment is dropped."""
    text = {"type": "text_delta", "text": "orphan"}
    frames = [
        message_start(),
        ev({"type": "content_block_delta", "index": 0, "delta": text}),
        ev(
            {
                "type": "content_block_delta",
                "index": 3,
                "delta": {"type": "input_json_delta", "partial_json": "{"},
            }
        ),
        *message_end("end_turn", 1),
    ]
    replay.enqueue(stream_reply(frames))
    parts, error = await collect(claude())
    assert (
        error is None
        and texts(parts) == ["orphan"]
        and not any(isinstance(p, ToolInputDelta) for p in parts)
    )
    assert parts[-1].content == [{"type": "text", "text": "orphan"}]


async def test_silence_before_the_headers_is_not_retried(replay, claude):
    """A server that never answers costs one read timeout, not one per retry."""
    replay.enqueue(no_response())
    parts, error = await collect(claude(FINSTREAM_READ_TIMEOUT=0.3))
    assert parts == [] and error.code == "stalled" and error.retryable
    assert "did not start answering within 0.3 s" in error.message
    assert len(replay.requests) == 1


async def test_cancelling_a_run_mid_stream_leaves_nothing_behind(replay, claude):
    """The run manager's Stop cancels the consuming task: the reader task and connection go too."""
    replay.enqueue(stalled("Revenue "), text_turn("next"))
    provider = claude()
    got_text = asyncio.Event()

    async def consume() -> None:
        async for part in provider.stream(request()):
            if isinstance(part, TextPart):
                got_text.set()

    task = asyncio.create_task(consume())
    await got_text.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    readers = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.startswith("_coalesced")]
    assert readers == []
    parts, error = await collect(provider)
    assert error is None and texts(parts) == ["next"]
