"""Fixtures for the Claude provider tests: the replay server and settings that point at it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from anthropic_replay import ReplayServer  # noqa: E402

from finstream.settings import Settings  # noqa: E402

# Shaped like a real key, so the redaction of key-like strings is exercised too.
TEST_KEY = "sk-ant-replay-0123456789abcdefSECRET"


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    """A replay server; the test fails if it left scripted replies unused or got unscripted calls."""
    with ReplayServer() as server:
        yield server
    server.assert_done()


def make_settings(server: ReplayServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "ANTHROPIC_API_KEY": TEST_KEY,
        "ANTHROPIC_BASE_URL": server.url,
        "FINSTREAM_MODEL": "claude-sonnet-5-5",
        "FINSTREAM_READ_TIMEOUT": 10.0,
        "FINSTREAM_RETRY_MAX_WAIT": 0.05,  # keeps backoff short; retry-after beyond it fails fast
        "FINSTREAM_MAX_RETRIES": 3,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def api_key() -> str:
    return TEST_KEY


@pytest.fixture
def claude(replay: ReplayServer):
    """Factory: a ClaudeProvider talking to the replay server, with settings overrides."""
    from finstream.providers.claude import ClaudeProvider

    def make(**overrides: object) -> ClaudeProvider:
        return ClaudeProvider(make_settings(replay, **overrides))

    return make
