"""Both surfaces for the shared-rule tests: the page (AppTest of app.py on a real runtime, the
scripted provider) and the API (real uvicorn on its own SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finstream.api.config import ApiSettings
from finstream.providers.scripted import ScriptedProvider
from finstream.runs.bridge import Runtime
from tests.api.api_support import TOKEN, LiveServer
from tests.support.runtime import installed_runtime
from tests.ui.conftest import ROOT


@pytest.fixture
def page_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    provider = ScriptedProvider()
    with installed_runtime(tmp_path, monkeypatch, lambda: provider) as rt:
        yield rt


@pytest.fixture
def page(page_runtime):  # noqa: ANN001, ANN201
    """A fresh AppTest of app.py (one browser session) on the test runtime."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[LiveServer]:
    """The API as served by default (its JSON and question limits), behind a token."""
    with LiveServer(tmp_path / "api.db", api=ApiSettings(token=TOKEN)) as server:
        yield server
