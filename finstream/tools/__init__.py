"""The tools Claude (and the demo analyst) can call."""

from __future__ import annotations

from functools import cache

from finstream.tools.base import Tool, Toolbox, ToolContext, ToolInputError, ToolOutcome, ToolRole
from finstream.tools.data import DATA_TOOLS
from finstream.tools.outputs import OUTPUT_TOOLS


def default_toolbox() -> Toolbox:
    """Data tools over the conversation's filings, then the output tools."""
    return Toolbox([*DATA_TOOLS, *OUTPUT_TOOLS])


@cache
def _shared() -> Toolbox:
    return default_toolbox()


def tool_label(name: str) -> str:
    """What a page or terminal shows while the tool ``name`` runs (its ``Tool.progress``)."""
    return _shared().label(name)


def tool_names(role: ToolRole | None = None) -> list[str]:
    """The default toolbox's tool names (data or output tools with ``role``), in order."""
    return _shared().names(role)


__all__ = ["Tool", "ToolContext", "ToolInputError", "ToolOutcome", "ToolRole", "Toolbox", "default_toolbox",
           "tool_label", "tool_names"]
