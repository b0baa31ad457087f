from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import pytest

from finstream.store import AsyncStore
from finstream.store.protocols import Conversations, Transcript
from tests.support.db import opened_store


class TranscriptStore(Conversations, Transcript, Protocol):
    """What the transcript tests call."""


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The same conformance tests on a SQLite file and on the real PostgreSQL."""
    with opened_store(request.param, tmp_path) as st:
        yield st


@pytest.fixture
async def astore(store) -> AsyncIterator[AsyncStore]:
    """The store protocols (store/protocols.py) as async code gets them: the AsyncStore adapter
    over the same SQLite or PostgreSQL store."""
    adapter = AsyncStore(store)
    yield adapter
    adapter._pool.shutdown(wait=True)  # the store fixture closes the store itself
