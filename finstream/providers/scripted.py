"""A provider that replays scripted steps: the test double for a model, with no mocks.

Each call to ``stream`` consumes one step. A call with no step left, or steps left over at the
end (``assert_consumed``), fails loudly.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Union

from finstream.providers.base import (
    BlockStop,
    Finish,
    Part,
    ProviderRequest,
    TextPart,
    ToolInputDelta,
    ToolUseStart,
)


class ScriptError(AssertionError):
    """The code under test called the model more (or fewer) times than scripted."""


@dataclass(frozen=True)
class Pause:
    """Sleep between parts (lets tests act mid-stream)."""

    seconds: float


@dataclass(frozen=True)
class Gate:
    """Wait until the test sets this event."""

    event: asyncio.Event


Item = Union[Part, Pause, Gate, BaseException]
Step = Union[list[Item], Callable[[ProviderRequest], Iterable[Item]], BaseException]


def split_json(raw: str, sizes: Iterable[int] = (1, 7, 3, 13, 5)) -> list[str]:
    """Cut a JSON text into odd fragments, the first empty, as models stream it."""
    pieces, pos, sizes = [""], 0, list(sizes)
    i = 0
    while pos < len(raw):
        n = sizes[i % len(sizes)]
        pieces.append(raw[pos : pos + n])
        pos += n
        i += 1
    return pieces


def text_parts(text: str, words_per_part: int = 1) -> list[Part]:
    """A text answer split into word-sized deltas (whitespace kept with the word before it)."""
    import re

    tokens = re.findall(r"\S+\s*|\s+", text)
    return [
        TextPart("".join(tokens[i : i + words_per_part])) for i in range(0, len(tokens), words_per_part)
    ]


def tool_parts(calls: list[tuple[str, Any]], *, start_index: int = 0, id_prefix: str = "toolu_") -> list[Part]:
    """Tool-use blocks; each call's input is a dict (dumped) or a raw JSON string (sent as is)."""
    parts: list[Part] = []
    for offset, (name, payload) in enumerate(calls):
        index = start_index + offset
        raw = payload if isinstance(payload, str) else json.dumps(payload)
        parts.append(ToolUseStart(index, f"{id_prefix}{index:02d}", name))
        parts.extend(ToolInputDelta(index, frag) for frag in split_json(raw))
        parts.append(BlockStop(index))
    return parts


def text_step(text: str, stop_reason: str | None = "end_turn", usage: dict | None = None) -> list[Item]:
    parts: list[Item] = list(text_parts(text))
    parts += [BlockStop(0), Finish(stop_reason, usage or {"input_tokens": 10, "output_tokens": 5})]
    return parts


def tool_step(*calls: tuple[str, Any], text: str = "", stop_reason: str | None = "tool_use") -> list[Item]:
    parts: list[Item] = list(text_parts(text)) if text else []
    if text:
        parts.append(BlockStop(0))
    parts += tool_parts(list(calls), start_index=1 if text else 0)
    parts.append(Finish(stop_reason, {"input_tokens": 10, "output_tokens": 5}))
    return parts


class ScriptedProvider:
    name = "scripted"

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self.steps: deque[Step] = deque(steps)
        self.requests: list[ProviderRequest] = []

    def add(self, *steps: Step) -> ScriptedProvider:
        self.steps.extend(steps)
        return self

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Part]:
        # Copy: the agent appends to the same list in later rounds.
        self.requests.append(
            ProviderRequest(
                request.system, list(request.messages), request.tools, request.max_tokens, request.model
            )
        )
        if not self.steps:
            raise ScriptError(f"unexpected model call #{len(self.requests)}: no scripted step left")
        step = self.steps.popleft()
        if isinstance(step, BaseException):
            raise step
        items = step(request) if callable(step) else step
        for item in items:
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, Pause):
                await asyncio.sleep(item.seconds)
            elif isinstance(item, Gate):
                await item.event.wait()
            else:
                yield item
                await asyncio.sleep(0)  # let consumers run between parts, like a network stream

    def assert_consumed(self) -> None:
        if self.steps:
            raise ScriptError(f"{len(self.steps)} scripted step(s) were never used")
