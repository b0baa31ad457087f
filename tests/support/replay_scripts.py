"""SSE byte scripts in the shape of Anthropic's Messages stream, one builder per quirk.

A script is a ``Reply``: the status, headers and the exact bytes the replay server writes, with
optional delays, and what happens at the end (finish the body, cut the connection, or stall).
Builders write the wire format by hand on purpose: the point is to feed the real SDK the bytes the
real API sends, including the odd ones (``ping``, unknown event types, fragments split anywhere).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

MODEL = "claude-sonnet-5-5"

# Fragment sizes for tool JSON: deliberately irregular, so splits land inside keys, strings,
# escapes and numbers. The first fragment is always "" as the real API often sends.
_ODD_SIZES = (1, 7, 3, 13, 2, 5, 11, 1, 17, 4)

DEFAULT_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


@dataclass(frozen=True)
class Chunk:
    """Bytes written in one go, after waiting ``delay`` seconds."""

    data: bytes
    delay: float = 0.0


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP response.

    ``end`` says how the body ends: "finish" sends the last chunk of the chunked body, "close"
    closes the socket mid-body (the client sees an incomplete chunked read), "reset" aborts it
    (a TCP reset), "stall" keeps the socket open and silent until the client gives up.
    "silent" sends nothing at all, not even the status line, and waits like "stall".
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("content-type", "text/event-stream"),)
    chunks: tuple[Chunk, ...] = ()
    end: Literal["finish", "close", "reset", "stall", "silent"] = "finish"
    # SSE bodies are sent chunked (so a cut is detectable); error bodies with Content-Length.
    chunked: bool = True
    name: str = ""

    @property
    def body(self) -> bytes:
        return b"".join(c.data for c in self.chunks)


def sse(event: str, data: dict[str, Any] | str) -> bytes:
    """One SSE frame, byte for byte as the API writes it."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def ev(data: dict[str, Any]) -> bytes:
    """A frame whose event name is its data's ``type`` (all Messages stream events)."""
    return sse(data["type"], data)


PING = sse("ping", {"type": "ping"})
# An event type this SDK version has never heard of; a client must ignore it.
UNKNOWN = sse("future_telemetry", {"type": "future_telemetry", "detail": {"shards": [1, 2]}})


def message_start(input_tokens: int = 25, message_id: str = "msg_replay") -> bytes:
    return ev(
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": 1},
            },
        }
    )


def message_end(stop_reason: str | None, output_tokens: int, *, stop: bool = True) -> list[bytes]:
    frames = [
        ev(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            }
        )
    ]
    if stop:
        frames.append(ev({"type": "message_stop"}))
    return frames


def split_text(text: str, pieces: int | None = None) -> list[str]:
    """Word pieces (keeping spaces), or ``pieces`` near-equal slices."""
    if pieces is None:
        words = text.split(" ")
        pieces = [w + " " for w in words[:-1]] + [words[-1]]
        return [p for p in pieces if p]
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]


def odd_fragments(raw: str) -> list[str]:
    """``raw`` split at irregular points, starting with the empty fragment."""
    out, pos = [""], 0
    for size in itertools.cycle(_ODD_SIZES):
        if pos >= len(raw):
            return out
        out.append(raw[pos : pos + size])
        pos += size
    return out  # pragma: no cover


def text_block(index: int, pieces: list[str], *, close: bool = True) -> list[bytes]:
    frames = [
        ev(
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            }
        )
    ]
    for piece in pieces:
        frames.append(
            ev(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": piece},
                }
            )
        )
    if close:
        frames.append(ev({"type": "content_block_stop", "index": index}))
    return frames


def tool_block(
    index: int,
    tool_id: str,
    name: str,
    fragments: list[str],
    *,
    close: bool = True,
    noise: bool = False,
    block_type: str = "tool_use",
) -> list[bytes]:
    start = {"type": block_type, "id": tool_id, "name": name, "input": {}}
    frames = [ev({"type": "content_block_start", "index": index, "content_block": start})]
    for i, frag in enumerate(fragments):
        if noise and i % 4 == 1:
            frames.append(PING)
        if noise and i % 9 == 2:
            frames.append(UNKNOWN)
        delta = {"type": "input_json_delta", "partial_json": frag}
        frames.append(ev({"type": "content_block_delta", "index": index, "delta": delta}))
    if close:
        frames.append(ev({"type": "content_block_stop", "index": index}))
    return frames


def stream_reply(
    frames: list[bytes], *, delay: float = 0.0, end: str = "finish", name: str = ""
) -> Reply:
    """Frames sent one per chunk (each after ``delay`` seconds)."""
    return Reply(chunks=tuple(Chunk(f, delay) for f in frames), end=end, name=name)  # type: ignore[arg-type]


def _text_frames(text: str | list[str], chunks: int | None) -> list[str]:
    return list(text) if isinstance(text, list) else split_text(text, chunks)


# --- builders, one per quirk -------------------------------------------------------------------


def text_turn(
    text: str | list[str],
    chunks: int | None = None,
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 25,
    output_tokens: int | None = None,
    delay: float = 0.0,
) -> Reply:
    """A plain answer. ``text`` as a list gives the exact deltas; else word pieces or ``chunks`` slices."""
    pieces = _text_frames(text, chunks)
    frames = [message_start(input_tokens), PING, *text_block(0, pieces)]
    frames += message_end(stop_reason, output_tokens if output_tokens is not None else len(pieces))
    return stream_reply(frames, delay=delay, name="text_turn")


def tool_turn(
    tools: list[tuple[str, str]],
    *,
    text: str = "",
    ids: list[str] | None = None,
    noise: bool = True,
    stop_reason: str = "tool_use",
    input_tokens: int = 40,
    delay: float = 0.0,
) -> Reply:
    """Optional leading text, then one tool_use block per (name, raw JSON) in one message.

    Each JSON is split into odd fragments (the first ""), with ``ping`` and an unknown event type
    interleaved when ``noise``.
    """
    frames = [message_start(input_tokens)]
    index = 0
    if text:
        frames += text_block(0, split_text(text))
        index = 1
    ids = ids or [f"toolu_replay_{i + 1:02d}" for i in range(len(tools))]
    for tool_id, (name, raw) in zip(ids, tools, strict=True):
        frames += tool_block(index, tool_id, name, odd_fragments(raw), noise=noise)
        index += 1
    frames += message_end(stop_reason, 10 * len(tools) + 5)
    return stream_reply(frames, delay=delay, name="tool_turn")


def error_after_200(
    type: str = "overloaded_error", message: str = "Overloaded", text: str = "Revenue grew "
) -> Reply:
    """HTTP 200, some text, then an ``error`` event (the SDK raises APIStatusError with status 200)."""
    frames = (
        [message_start(), *text_block(0, split_text(text), close=False)]
        if text
        else [message_start()]
    )
    frames.append(sse("error", {"type": "error", "error": {"type": type, "message": message}}))
    return stream_reply(frames, name="error_after_200")


def dropped_mid_stream(
    text: str = "Revenue grew by ", how: Literal["close", "reset"] = "close"
) -> Reply:
    """Some text, then the connection is cut in the middle of the chunked body."""
    frames = [message_start(), *text_block(0, split_text(text), close=False)]
    return stream_reply(frames, end=how, name="dropped_mid_stream")


def stalled(text: str = "Revenue grew by ") -> Reply:
    """Some text, then silence on an open connection (only the read timeout ends it)."""
    frames = [message_start(), *text_block(0, split_text(text), close=False)]
    return stream_reply(frames, end="stall", name="stalled")


def no_response() -> Reply:
    """The request is read and never answered: no status line, no headers."""
    return Reply(end="silent", name="no_response")


def no_message_stop(
    text: str = "Revenue grew by 2%.", *, with_message_delta: bool = False
) -> Reply:
    """The body ends cleanly but the message never got its ``message_stop``."""
    frames = [message_start(), *text_block(0, split_text(text))]
    if with_message_delta:
        frames += message_end("end_turn", 6, stop=False)
    return stream_reply(frames, name="no_message_stop")


def max_tokens_in_tool(
    name: str = "create_metric",
    raw: str = '{"label": "Revenue FY2024", "value": 391035000000, "unit": "USD"}',
    *,
    cut_at: int | None = None,
    text: str = "Here is the figure.",
    close_block: bool = True,
) -> Reply:
    """A tool call cut by the output limit: its JSON stops part way, stop_reason max_tokens."""
    cut = raw[: cut_at if cut_at is not None else len(raw) // 2]
    frames = [message_start(), *text_block(0, split_text(text))]
    frames += tool_block(1, "toolu_replay_cut", name, odd_fragments(cut), close=close_block)
    frames += message_end("max_tokens", 64)
    return stream_reply(frames, name="max_tokens_in_tool")


def http_error(
    status: int,
    *,
    retry_after: float | str | None = None,
    retry_after_ms: float | None = None,
    error_type: str | None = None,
    message: str | None = None,
) -> Reply:
    """An error before any output: a JSON body with the API's error shape and headers."""
    etype = error_type or DEFAULT_ERROR_TYPES.get(status, "api_error")
    body = json.dumps(
        {"type": "error", "error": {"type": etype, "message": message or etype}}
    ).encode()
    headers = [("content-type", "application/json")]
    if retry_after is not None:
        headers.append(("retry-after", str(retry_after)))
    if retry_after_ms is not None:
        headers.append(("retry-after-ms", str(retry_after_ms)))
    return Reply(status, tuple(headers), (Chunk(body),), chunked=False, name=f"http_{status}")


def refusal(text: str = "I can't help with that.") -> Reply:
    """Text, then ``stop_reason: refusal``."""
    return text_turn(text, stop_reason="refusal")


def pause_turn(text: str = "Let me look that up.", *, server_tool: bool = True) -> Reply:
    """A long server-side turn paused by the API: ``stop_reason: pause_turn``.

    With ``server_tool`` the message also holds a ``server_tool_use`` block (as with web search),
    whose input must be sent back verbatim to continue.
    """
    frames = [message_start(), *text_block(0, split_text(text))]
    if server_tool:
        raw = '{"query": "Apple revenue FY2024"}'
        frames += tool_block(
            1, "srvtoolu_replay_1", "web_search", odd_fragments(raw), block_type="server_tool_use"
        )
    frames += message_end("pause_turn", 12)
    return stream_reply(frames, name="pause_turn")


def many_deltas(count: int, piece: str = "tok ") -> Reply:
    """A long answer of ``count`` text deltas sent as one block of bytes (benchmarks)."""
    frames = [message_start(), *text_block(0, [piece] * count), *message_end("end_turn", count)]
    return Reply(chunks=(Chunk(b"".join(frames)),), name="many_deltas")


def many_tools(count: int, name: str, raw: str) -> Reply:
    """One message with ``count`` tool_use blocks of the same input, as one block of bytes."""
    frames = [message_start()]
    for i in range(count):
        frames += tool_block(i, f"toolu_bench_{i:04d}", name, odd_fragments(raw))
    frames += message_end("tool_use", 20 * count)
    return Reply(chunks=(Chunk(b"".join(frames)),), name="many_tools")


# --- the 5.5 generation: thinking, signatures, notes between tool calls --------------------------


def thinking_block(index: int, pieces: list[str], *, close: bool = True) -> list[bytes]:
    """A thinking block: empty start, thinking_delta pieces, a signature_delta, stop. The strict
    server signs it (and drops the text unless the request asked for display "summarized")."""
    start = {"type": "thinking", "thinking": "", "signature": ""}
    frames = [ev({"type": "content_block_start", "index": index, "content_block": start})]
    for piece in pieces:
        delta = {"type": "thinking_delta", "thinking": piece}
        frames.append(ev({"type": "content_block_delta", "index": index, "delta": delta}))
    if close:
        sig = {"type": "signature_delta", "signature": "unsigned"}
        frames.append(ev({"type": "content_block_delta", "index": index, "delta": sig}))
        frames.append(ev({"type": "content_block_stop", "index": index}))
    return frames


def redacted_thinking_block(index: int) -> list[bytes]:
    """A redacted_thinking block, which arrives whole (its data is filled in by the server)."""
    block = {"type": "redacted_thinking", "data": "unsigned"}
    return [
        ev({"type": "content_block_start", "index": index, "content_block": block}),
        ev({"type": "content_block_stop", "index": index}),
    ]


Block = tuple  # ("thinking", text) | ("redacted",) | ("text", text) | ("tool", name, raw, id)
BlockFrames = Callable[[int, Block], list[bytes]]  # (index, block) -> its frames

# How each kind of block streams: thinking and text word by word, tool JSON in odd fragments.
BLOCK_FRAMES: dict[str, BlockFrames] = {
    "thinking": lambda index, block: thinking_block(index, split_text(block[1])),
    "redacted": lambda index, _block: redacted_thinking_block(index),
    "text": lambda index, block: text_block(index, split_text(block[1])),
    "tool": lambda index, block: tool_block(index, block[3], block[1], odd_fragments(block[2]), noise=False),
}


def block_frames(blocks: list[Block], kinds: dict[str, BlockFrames] = BLOCK_FRAMES) -> list[bytes]:
    """The frames of a message's content blocks, in order (``kinds``: how each kind streams)."""
    frames: list[bytes] = []
    for index, block in enumerate(blocks):
        if block[0] not in kinds:
            raise ValueError(f"unknown block kind {block[0]!r}")
        frames += kinds[block[0]](index, block)
    return frames


def reasoned_turn(
    blocks: list[Block],
    *,
    stop_reason: str | None = None,
    delay: float = 0.0,
    end: str = "finish",
    stop: bool = True,
) -> Reply:
    """A message of the current generation: blocks in the given order, e.g. thinking, then a
    note in thinking between tool calls, text, tool_use. Thinking and text stream word by word,
    tool JSON in odd fragments. ``stop_reason`` defaults to tool_use when there is a tool call."""
    frames = [message_start(), PING, *block_frames(blocks)]
    tools = sum(1 for block in blocks if block[0] == "tool")
    if end == "finish":  # a cut connection ("close", "reset") ends before the message's end
        reason = stop_reason or ("tool_use" if tools else "end_turn")
        frames += message_end(reason, 30 + 10 * len(blocks), stop=stop)
    return stream_reply(frames, delay=delay, end=end, name="reasoned_turn")


def thinking_heavy(tools: int, name: str, raw: str, *, note_words: int = 40) -> Reply:
    """One message with ``tools`` tool calls, each after a note in a thinking block streamed word
    by word (the 5.5 generation's shape), as one block of bytes (benchmarks)."""
    note = " ".join(f"w{k}" for k in range(note_words))
    frames = [message_start()]
    index = 0
    for i in range(tools):
        frames += thinking_block(index, split_text(f"Step {i}: {note}"))
        frames += tool_block(index + 1, f"toolu_think_{i:04d}", name, odd_fragments(raw))
        index += 2
    frames += message_end("tool_use", 60 * tools)
    return Reply(chunks=(Chunk(b"".join(frames)),), name="thinking_heavy")
