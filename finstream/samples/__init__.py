"""Real SEC filings shipped with finstream so a new conversation has something to ask about."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def sample_paths() -> list[Path]:
    """The sample filings, in the order the app should preload them."""
    return [_HERE / "CIK0000320193.json"]
