from __future__ import annotations

import pytest

from finstream.providers.scripted import ScriptedProvider
from finstream.runs import RunManager
from finstream.settings import Settings
from finstream.store import AsyncStore
from finstream.tools.base import Toolbox
from finstream.tools.outputs import OUTPUT_TOOLS
from tests.support.db import drop_schema, open_test_store, opened_store

TOOLBOX = Toolbox(list(OUTPUT_TOOLS))
CHART = {"title": "Revenue", "x": ["FY2023", "FY2024"],
         "series": [{"name": "Revenue", "values": [383.3, 391.0]}]}
METRIC = {"label": "Revenue FY2024", "value": 391035000000, "delta": 2.0}


def settings() -> Settings:
    return Settings(FINSTREAM_MAX_TOKENS=1024, FINSTREAM_MAX_TOOL_ROUNDS=4)


class Env:
    """A RunManager on a real database, driven by a ScriptedProvider the test fills."""

    def __init__(self, store, **options) -> None:
        self.store = store
        self.provider = ScriptedProvider()
        self.astore = AsyncStore(store)
        self.manager = RunManager(self.astore, lambda: self.provider, TOOLBOX, settings(), **options)

    async def close(self) -> None:
        await self.manager.shutdown()
        self.astore._pool.shutdown(wait=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    with opened_store(request.param, tmp_path) as st:
        yield st


@pytest.fixture
def sqlite_db(tmp_path):
    with opened_store("sqlite", tmp_path) as st:
        yield st


@pytest.fixture
def pg_db(tmp_path):
    st, schema = open_test_store("postgresql", tmp_path)
    yield st, schema
    st.close()
    drop_schema(schema)


@pytest.fixture
async def env(db):
    e = Env(db)
    yield e
    await e.close()


@pytest.fixture
async def lite(sqlite_db):
    e = Env(sqlite_db)
    yield e
    await e.close()
