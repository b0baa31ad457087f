"""Turns provider parts into decisions, with no I/O: text goes out at once, tool input is buffered
per content block and parsed strictly when the block closes.

The SDK's own partial-JSON snapshots silently drop unfinished strings, so nothing here trusts a
snapshot: a tool call is the exact concatenation of its raw fragments, parsed once, strictly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union

from finstream.providers.base import (
    BlockStop,
    Finish,
    Notice,
    Part,
    TextPart,
    ThinkingPart,
    ToolInputDelta,
    ToolUseStart,
)

RAW_ECHO_LIMIT = 2000  # how much of a broken input is echoed back to the model


def _refuse_constant(name: str) -> Any:
    # RFC 8259 JSON has no NaN or Infinity; Python's json accepts them unless told not to.
    raise ValueError(f"{name} is not valid JSON")


@dataclass
class ToolCall:
    """A tool_use block whose input is complete (or known to be broken)."""

    tool_id: str
    name: str
    raw_json: str
    input: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class TextOut:
    text: str


@dataclass(frozen=True)
class ThinkingOut:
    text: str


@dataclass(frozen=True)
class ToolOpened:
    tool_id: str
    name: str


@dataclass(frozen=True)
class ToolReady:
    call: ToolCall


@dataclass(frozen=True)
class NoticeOut:
    message: str


Action = Union[TextOut, ThinkingOut, ToolOpened, ToolReady, NoticeOut]


def parse_tool_input(raw: str) -> tuple[dict[str, Any] | None, str | None]:
    """Strictly parse a tool's complete input. Returns (input, None) or (None, reason)."""
    text = raw.strip() or "{}"  # a tool with no parameters streams no fragments at all
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return None, f"tool input is not valid JSON ({exc.msg} at position {exc.pos})"
    except ValueError as exc:
        return None, f"tool input is not valid JSON ({exc})"
    if not isinstance(value, dict):
        return None, f"tool input must be a JSON object, got {type(value).__name__}"
    return value, None


@dataclass
class _OpenTool:
    tool_id: str
    name: str
    fragments: list[str] = field(default_factory=list)


class Assembler:
    """One model message's worth of parts. Feed parts in order; act on the returned actions."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self.finish: Finish | None = None
        self.tool_calls: list[ToolCall] = []
        self._open: dict[int, _OpenTool] = {}
        self._content: list[dict[str, Any]] = []  # assistant blocks, in order, to send back

    def feed(self, part: Part) -> list[Action]:
        if isinstance(part, TextPart):
            if not part.text:
                return []
            self._text.append(part.text)
            # Text blocks hold lists of pieces until sent back: += on a long string is quadratic.
            if self._content and self._content[-1]["type"] == "text":
                self._content[-1]["pieces"].append(part.text)
            else:
                self._content.append({"type": "text", "pieces": [part.text]})
            return [TextOut(part.text)]
        if isinstance(part, ThinkingPart):
            # Reasoning is shown apart and never joins the answer text; the provider keeps the
            # thinking blocks themselves (with signatures) to send back.
            return [ThinkingOut(part.text)] if part.text else []
        if isinstance(part, ToolUseStart):
            self._open[part.index] = _OpenTool(part.tool_id, part.name)
            return [ToolOpened(part.tool_id, part.name)]
        if isinstance(part, ToolInputDelta):
            block = self._open.get(part.index)
            if block is not None:  # fragments for unknown blocks (e.g. thinking) are not ours
                block.fragments.append(part.partial_json)
            return []
        if isinstance(part, BlockStop):
            block = self._open.pop(part.index, None)
            if block is None:
                return []
            return [ToolReady(self._close(block, truncated=False))]
        if isinstance(part, Finish):
            self.finish = part
            # Blocks still open when the message ends were cut (max_tokens or a lost stream).
            actions: list[Action] = [
                ToolReady(self._close(block, truncated=True)) for block in self._open.values()
            ]
            self._open.clear()
            return actions
        if isinstance(part, Notice):
            return [NoticeOut(part.message)]
        return []

    def _close(self, block: _OpenTool, *, truncated: bool) -> ToolCall:
        raw = "".join(block.fragments)
        call = ToolCall(block.tool_id, block.name, raw)
        if truncated:
            call.error = "tool input was cut off before it was complete (output limit reached)"
        else:
            call.input, call.error = parse_tool_input(raw)
        self.tool_calls.append(call)
        # The API requires tool_use input to be an object, so a broken one is sent back as {}.
        self._content.append(
            {"type": "tool_use", "id": call.tool_id, "name": call.name, "input": call.input or {}}
        )
        return call

    @property
    def text(self) -> str:
        return "".join(self._text)

    def assistant_content(self) -> list[dict[str, Any]]:
        return [
            {"type": "text", "text": "".join(b["pieces"])} if b["type"] == "text" else dict(b)
            for b in self._content
        ]


def echo_raw(raw: str) -> str:
    """The model's broken input, shortened, for an is_error tool result."""
    if len(raw) <= RAW_ECHO_LIMIT:
        return raw
    return raw[:RAW_ECHO_LIMIT] + f"... ({len(raw) - RAW_ECHO_LIMIT} more characters)"
