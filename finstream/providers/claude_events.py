"""Claude's raw stream events turned into provider parts (the translation half of claude.py).

``_Message`` folds each raw SSE event into at most one part and keeps the message's content blocks
exactly as received (thinking with its signature, text, tool_use with its input), its usage and
stop reason. ``_coalesced`` drains the SDK stream on a reader task and merges runs of text (or of
thinking) that piled up while the consumer was busy.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from finstream.providers.base import (
    BlockStop,
    CitationPart,
    Finish,
    Part,
    TextPart,
    ThinkingPart,
    ToolInputDelta,
    ToolUseStart,
)

_USAGE_FIELDS = (
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"
)


class _Failed:
    """An exception the reader task hit, delivered in order after the parts before it."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


async def _coalesced(sdk_stream: Any, message: _Message) -> AsyncIterator[Part]:
    """The message's parts, with runs of text that arrived together merged into one TextPart.

    A reader task drains the SDK stream into an inbox while the consumer works. When the consumer
    keeps up, every delta passes alone, at once; when it falls behind (a slow page, a busy loop),
    the text that piled up goes out as one part instead of hundreds, so nothing waits and the
    per-delta cost downstream (events, the event log, the page) stops growing with the backlog.
    Tool fragments and block boundaries pass one by one, in order.
    """
    inbox: deque[Any] = deque()
    wake = asyncio.Event()

    async def read() -> None:
        try:
            async for event in sdk_stream:
                part = message.feed(event)
                if part is not None:
                    inbox.append(part)
                    wake.set()
        except Exception as exc:  # re-raised in the consumer, after the parts before it
            inbox.append(_Failed(exc))
        inbox.append(_END)
        wake.set()

    reader = asyncio.create_task(read())
    try:
        while True:
            await wake.wait()
            wake.clear()
            texts: list[str] = []
            kind: type = TextPart  # which of TextPart / ThinkingPart ``texts`` holds
            while inbox:
                item = inbox.popleft()
                itype = type(item)
                if itype is TextPart or itype is ThinkingPart:
                    if texts and itype is not kind:
                        yield kind(texts[0] if len(texts) == 1 else "".join(texts))
                        texts = []
                    kind = itype
                    texts.append(item.text)
                    continue
                if texts:
                    yield kind(texts[0] if len(texts) == 1 else "".join(texts))
                    texts = []
                if item is _END:
                    return
                if itype is _Failed:
                    raise item.exc
                yield item
            if texts:
                yield kind(texts[0] if len(texts) == 1 else "".join(texts))
    finally:
        if not reader.done():
            reader.cancel()
            await asyncio.wait([reader])


class _Message:
    """What one streamed message has said so far: usage, stop reason, and its content blocks."""

    def __init__(self) -> None:
        self.stop_reason: str | None = None
        self.stopped = False
        self.usage = dict.fromkeys(_USAGE_FIELDS, 0)
        self.model: str | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.pieces: dict[int, list[str]] = {}  # text, thinking or raw JSON, per block index

    def feed(self, event: Any) -> Part | None:
        """The part for one raw event (each raw event gives at most one), or None."""
        kind = event.type
        if kind == "content_block_delta":
            delta = event.delta
            dtype = delta.type
            index = event.index
            pieces = self.pieces.get(index)
            if dtype == "text_delta":
                text = delta.text
                if not text:
                    return None
                if pieces is None:  # text for a block that never started: keep it, it is the answer
                    pieces = self.pieces[index] = []
                    self.blocks[index] = {"type": "text"}
                pieces.append(text)
                return TextPart(text)
            if pieces is None:
                return None  # a fragment for a block that never started: nothing to attach it to
            block = self.blocks[index]
            if dtype == "input_json_delta":
                pieces.append(delta.partial_json)
                if block.get("type") == "tool_use":
                    return ToolInputDelta(index, delta.partial_json)
                return None  # a server tool's input: sent back on continuation, never run here
            if dtype == "thinking_delta":
                pieces.append(delta.thinking)
                return ThinkingPart(delta.thinking) if delta.thinking else None
            if dtype == "signature_delta":
                block["signature"] = delta.signature
                return None
            if dtype == "citations_delta" and block.get("type") == "text":
                # Kept on the text block (it goes back exactly as received) and passed on: the
                # citation supports the text that follows it in this block.
                citation = delta.citation.model_dump(mode="json", exclude_unset=True)
                block.setdefault("citations", []).append(citation)
                return CitationPart(index, citation)
            return None  # delta types this code does not know
        if kind == "content_block_start":
            block = event.content_block
            index = event.index
            self.pieces[index] = []
            btype = block.type
            if btype == "text":
                self.blocks[index] = {"type": "text"}
                if getattr(block, "citations", None):  # a block that starts with its citations
                    self.blocks[index]["citations"] = [c.model_dump(mode="json", exclude_unset=True) for c in block.citations]
                if block.text:
                    self.pieces[index].append(block.text)
                    return TextPart(block.text)
                return None
            if btype in ("tool_use", "server_tool_use"):
                self.blocks[index] = {"type": btype, "id": block.id, "name": block.name}
                return ToolUseStart(index, block.id, block.name) if btype == "tool_use" else None
            if btype == "thinking":
                self.blocks[index] = {
                    "type": "thinking",
                    "signature": getattr(block, "signature", ""),
                }
                return None
            # Blocks that arrive whole (redacted thinking, server tool results): kept verbatim.
            self.blocks[index] = {"verbatim": block.model_dump(mode="json", exclude_none=True)}
            return None
        if kind == "content_block_stop":
            return BlockStop(event.index)
        if kind == "message_start":
            self.model = getattr(event.message, "model", None)
            usage = event.message.usage
            for name in _USAGE_FIELDS:
                self.usage[name] = getattr(usage, name, None) or 0
            return None
        if kind == "message_delta":
            self.stop_reason = event.delta.stop_reason
            usage = event.usage
            if usage is not None:  # cumulative counts; a field left out keeps its value
                for name in _USAGE_FIELDS:
                    value = getattr(usage, name, None)
                    if value is not None:
                        self.usage[name] = value
            return None
        if kind == "message_stop":
            self.stopped = True
        return None  # ping is dropped by the SDK; unknown event types are ignored here

    def finish(self) -> Finish:
        # No message_stop: the stream ended early without an error. stop_reason None says so.
        return Finish(
            self.stop_reason if self.stopped else None, dict(self.usage), self.content(), self.model
        )

    def content(self) -> list[dict[str, Any]]:
        """The assistant blocks as the API takes them back (pause_turn, continuation)."""
        out = []
        for index in sorted(self.blocks):
            block = self.blocks[index]
            joined = "".join(self.pieces.get(index, ()))
            btype = block.get("type")
            if "verbatim" in block:
                out.append(block["verbatim"])
            elif btype == "text":
                if joined:
                    text_block: dict[str, Any] = {"type": "text", "text": joined}
                    if block.get("citations"):
                        text_block["citations"] = block["citations"]
                    out.append(text_block)
            elif btype == "thinking":
                out.append(
                    {
                        "type": "thinking",
                        "thinking": joined,
                        "signature": block.get("signature", ""),
                    }
                )
            else:
                out.append({**block, "input": _json_object(joined)})
        return out


def _json_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}  # the API requires an object; the assembler reports the broken input itself
    return value if isinstance(value, dict) else {}
