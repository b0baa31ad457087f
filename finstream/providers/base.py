"""The narrow contract every model provider implements.

A provider only translates: it turns its model's stream into these parts. It does not parse tool
JSON (the assembler does, strictly, at block end) and does not run tools.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, Union


@dataclass(frozen=True)
class TextPart:
    """A piece of answer text."""

    text: str


@dataclass(frozen=True)
class ThinkingPart:
    """A piece of the model's reasoning, or of the short notes it writes between tool calls
    (on the 5.x generation those arrive in thinking blocks). Never part of the answer text."""

    text: str


@dataclass(frozen=True)
class ToolUseStart:
    """A tool_use block opened at content-block ``index``."""

    index: int
    tool_id: str
    name: str


@dataclass(frozen=True)
class ToolInputDelta:
    """A raw fragment of a tool's JSON input (may be any split, including "")."""

    index: int
    partial_json: str


@dataclass(frozen=True)
class BlockStop:
    """The content block at ``index`` closed (for a tool: its input is complete)."""

    index: int


@dataclass(frozen=True)
class Finish:
    """The model's message ended. ``stop_reason`` None means the stream ended without message_stop."""

    stop_reason: str | None
    usage: dict[str, int] = field(default_factory=dict)
    # The assistant content blocks exactly as received (thinking with signatures, text, tool_use,
    # in order): what goes back to the model in the next round. None: rebuild from the parts.
    content: list[dict[str, Any]] | None = None
    model: str | None = None  # the model that answered (priced by providers/pricing.py)


@dataclass(frozen=True)
class CitationPart:
    """The model cited a source for the text that follows (a ``citations_delta``): the citation
    object as the API sent it (``search_result_location``, ``char_location`` ...), as a dict."""

    index: int  # the content block (a text block) the citation belongs to
    citation: dict[str, Any]


@dataclass(frozen=True)
class Notice:
    """Progress worth showing the user (e.g. "model overloaded, retrying in 2 s")."""

    message: str


Part = Union[TextPart, ThinkingPart, ToolUseStart, ToolInputDelta, BlockStop, Finish, Notice, CitationPart]


@dataclass
class ProviderRequest:
    """One model call: Anthropic-shaped messages and tool schemas."""

    system: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = field(default_factory=list)
    max_tokens: int = 4096
    model: str | None = None  # a per-run choice; None means the provider's configured model
    effort: str | None = None  # output_config.effort (low ... max); None: the provider's default


class ProviderError(Exception):
    """A failure a user can read. ``retryable`` means retrying or continuing may succeed."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.usage: dict[str, int] | None = None  # tokens a cut message had already used
        self.model: str | None = None


class Provider(Protocol):
    name: str

    def stream(self, request: ProviderRequest) -> AsyncIterator[Part]:
        """Yield parts for one model call; raise ProviderError on failure."""
        ...
