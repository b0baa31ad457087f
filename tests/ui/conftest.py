"""Fixtures for the Streamlit pages: a real runtime (SQLite file in a temp dir, real RunManager)
driven by the scripted provider, installed as the process-wide runtime the pages use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finstream.providers.scripted import ScriptedProvider
from finstream.runs.bridge import Runtime
from tests.support.runtime import installed_runtime

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ui_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Runtime, ScriptedProvider]]:
    provider = ScriptedProvider()
    with installed_runtime(tmp_path, monkeypatch, lambda: provider) as rt:
        yield rt, provider


@pytest.fixture
def app_test(ui_runtime):  # noqa: ANN001, ANN201
    """A factory of AppTests of app.py (a fresh browser session each), on the test runtime."""
    from streamlit.testing.v1 import AppTest

    def make(timeout: float = 30):  # AppTest's 3 s default is too short on a shared machine
        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)

    return make


@pytest.fixture
def demo_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """The runtime as `make run` has it: the demo analyst (no API key), with no delay."""
    with installed_runtime(tmp_path, monkeypatch) as rt:
        yield rt
