"""The process-wide runtime the Streamlit pages use, for tests: a real Runtime (SQLite file in a
temp dir, real RunManager) on settings as on a machine with no API key, installed for the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from finstream.providers.base import Provider
from finstream.runs import bridge as runtime_module
from finstream.settings import Settings, get_settings


def offline_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as on a machine with no key: a temp SQLite data dir, no delay between words."""
    monkeypatch.setenv("FINSTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FINSTREAM_DEMO_DELAY", "0")
    get_settings.cache_clear()
    return get_settings()


@contextmanager
def installed_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider_factory: Callable[[], Provider] | None = None
) -> Iterator[runtime_module.Runtime]:
    """A Runtime on offline settings, as the pages' runtime until the end of the block; without a
    provider factory it answers with the demo analyst, as `make run` does."""
    rt = runtime_module.Runtime(offline_settings(tmp_path, monkeypatch), provider_factory=provider_factory)
    monkeypatch.setattr(runtime_module, "_runtime", rt)
    try:
        yield rt
    finally:
        rt.close()
        get_settings.cache_clear()
