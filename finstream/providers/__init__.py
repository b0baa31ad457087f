"""Model providers: Claude through the official SDK, or the offline demo analyst."""

from __future__ import annotations

from finstream.providers.base import Provider
from finstream.settings import Settings


def make_provider(settings: Settings) -> Provider:
    """Claude when ANTHROPIC_API_KEY is set (and FINSTREAM_DEMO is not), else the demo analyst."""
    if settings.use_claude:
        from finstream.providers.claude import ClaudeProvider

        return ClaudeProvider(settings)
    from finstream.providers.demo import DemoAnalyst

    return DemoAnalyst(delay=settings.demo_delay)
