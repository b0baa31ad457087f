"""The tools Claude (and the demo analyst) can call."""

from __future__ import annotations

from finstream.tools.base import Tool, Toolbox, ToolContext, ToolInputError, ToolOutcome
from finstream.tools.data import DATA_TOOLS
from finstream.tools.outputs import OUTPUT_TOOLS


def default_toolbox() -> Toolbox:
    """Data tools over the conversation's filings, then the output tools."""
    return Toolbox([*DATA_TOOLS, *OUTPUT_TOOLS])


__all__ = ["Tool", "ToolContext", "ToolInputError", "ToolOutcome", "Toolbox", "default_toolbox"]
