from __future__ import annotations

import httpx
import pytest

from tests.api.api_support import TOKEN, ChartAnalyst, LiveServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    """One server per test module; tests create their own conversations."""
    provider = ChartAnalyst(words=12, delay=0.003)
    with LiveServer(tmp_path_factory.mktemp("api") / "api.db", provider=provider) as server:
        yield server


@pytest.fixture
async def client(live: LiveServer):
    async with httpx.AsyncClient(
        base_url=live.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as c:
        yield c
