"""Fixtures for the Streamlit pages: a real runtime (SQLite file in a temp dir, real RunManager)
driven by the scripted provider, installed as the process-wide runtime the pages use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finstream.providers.scripted import ScriptedProvider
from finstream.runs import bridge as runtime_module
from finstream.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


def _offline_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202
    """Settings as on a machine with no key: a temp SQLite data dir, no delay between words."""
    monkeypatch.setenv("FINSTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FINSTREAM_DEMO_DELAY", "0")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def ui_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    settings = _offline_settings(tmp_path, monkeypatch)
    provider = ScriptedProvider()
    rt = runtime_module.Runtime(settings, provider_factory=lambda: provider)
    monkeypatch.setattr(runtime_module, "_runtime", rt)
    try:
        yield rt, provider
    finally:
        rt.close()
        get_settings.cache_clear()


@pytest.fixture
def app_test(ui_runtime):  # noqa: ANN001, ANN201
    """A factory of AppTests of app.py (a fresh browser session each), on the test runtime."""
    from streamlit.testing.v1 import AppTest

    def make(timeout: float = 30):  # AppTest's 3 s default is too short on a shared machine
        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)

    return make


@pytest.fixture
def demo_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The runtime as `make run` has it: the demo analyst (no API key), with no delay."""
    rt = runtime_module.Runtime(_offline_settings(tmp_path, monkeypatch))
    monkeypatch.setattr(runtime_module, "_runtime", rt)
    try:
        yield rt
    finally:
        rt.close()
        get_settings.cache_clear()
