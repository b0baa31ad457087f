"""Real SEC filings, each parsed once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from finstream.filings.ingest import ingest
from finstream.filings.model import Filing

REPO = Path(__file__).resolve().parents[2]
FILINGS_DIR = Path(os.environ.get("FINSTREAM_FILINGS_DIR", REPO / ".." / "shared" / "filings")).resolve()


@pytest.fixture(scope="session")
def filings_dir() -> Path:
    if not FILINGS_DIR.is_dir():
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
