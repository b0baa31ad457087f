"""Real SEC filings for the checker's tests, each parsed once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from finstream.filings.ingest import ingest
from finstream.filings.model import Filing
from tests.support.filings import FILINGS_DIR


@pytest.fixture(scope="session")
def filing() -> object:
    if not FILINGS_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"real filings not found at {FILINGS_DIR}")
        pytest.skip(f"real filings not found at {FILINGS_DIR} (set FINSTREAM_FILINGS_DIR)")
    cache: dict[str, Filing] = {}

    def get(name: str) -> Filing:
        if name not in cache:
            cache[name] = ingest(name, (Path(FILINGS_DIR) / name).read_bytes())
        return cache[name]

    return get
