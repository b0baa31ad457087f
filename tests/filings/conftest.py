"""Real SEC filings, each parsed once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from finstream.filings.ingest import ingest
from finstream.filings.model import Filing
from tests.support.filings import FILINGS_DIR


@pytest.fixture(scope="session")
def filings_dir() -> Path:
    if not FILINGS_DIR.is_dir():
        if os.environ.get("CI"):  # in CI the filings are always beside the clone: missing is a failure
            pytest.fail(f"real filings not found at {FILINGS_DIR}")
        pytest.skip(f"real filings not found at {FILINGS_DIR} (set FINSTREAM_FILINGS_DIR)")
    return FILINGS_DIR


class _Parsed:
    """Parses a filing on first use and keeps it for the session (big files are slow to parse)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[str, Filing] = {}

    def __call__(self, name: str) -> Filing:
        if name not in self.cache:
            self.cache[name] = ingest(name, (self.root / name).read_bytes())
        return self.cache[name]


@pytest.fixture(scope="session")
def parsed(filings_dir: Path) -> _Parsed:
    return _Parsed(filings_dir)
