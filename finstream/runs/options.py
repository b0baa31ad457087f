"""Per-run options: the model and limits of one answer (every transport checks the same ranges)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RunOptions(BaseModel):
    """Per-run choices; None means the server's setting (FINSTREAM_MODEL / _MAX_TOKENS /
    _MAX_TOOL_ROUNDS). Ranges are checked here, so every transport rejects the same values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(
        None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/-]*$",
        description="Claude model name (only used with Claude; the demo analyst ignores it).",
    )
    max_tokens: int | None = Field(None, ge=1, le=128000, description="Max output tokens per model call.")
    max_rounds: int | None = Field(None, ge=1, le=32, description="Max model calls (tool rounds) per answer.")
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = Field(
        None, description="How deeply Claude thinks (output_config.effort; FINSTREAM_EFFORT by "
        "default). Only used with Claude's adaptive-thinking models.",
    )

    def resolve(self, settings: Any) -> dict[str, Any]:
        """The keyword arguments for ``run_turn``: these choices over the settings' defaults."""
        return {
            "model": self.model,  # None: the provider's configured model
            "max_tokens": self.max_tokens or settings.max_tokens,
            "max_rounds": self.max_rounds or settings.max_tool_rounds,
            "effort": self.effort or getattr(settings, "effort", None),
        }
