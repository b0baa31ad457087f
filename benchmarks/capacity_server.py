"""finstream's side of bench_capacity.py: the real API app (create_app, RunManager, event log on a
SQLite file, SSE) on uvicorn, answering with a provider that streams the replay.

    python capacity_server.py PORT [CHECKOUT]   (CHECKOUT: serve another checkout's finstream)"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# argv[2]: the checkout whose finstream is served (bench_capacity.py --baseline); this one's by default.
sys.path.insert(0, sys.argv[2] if len(sys.argv) > 2 else str(Path(__file__).resolve().parents[1]))

import uvicorn  # noqa: E402
from capacity_replay import GAP, TOKENS, token  # noqa: E402

from finstream.api.app import create_app  # noqa: E402
from finstream.api.config import ApiSettings  # noqa: E402
from finstream.api.server import tune_gc  # noqa: E402
from finstream.providers.base import BlockStop, Finish, Part, ProviderRequest, TextPart  # noqa: E402
from finstream.runs import RunManager  # noqa: E402
from finstream.settings import Settings  # noqa: E402
from finstream.store import Store  # noqa: E402
from finstream.tools import default_toolbox  # noqa: E402


class ReplayProvider:
    name = "replay"

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Part]:
        for i in range(TOKENS):
            yield TextPart(token(i))
            await asyncio.sleep(GAP)
        yield BlockStop(0)
        yield Finish("end_turn", {"input_tokens": 10, "output_tokens": TOKENS})


def main() -> None:
    port = int(sys.argv[1])
    tmp = Path(tempfile.mkdtemp(prefix="finstream-capacity-"))
    store = Store(f"sqlite:///{tmp / 'capacity.db'}")
    provider = ReplayProvider()
    manager = RunManager(store, lambda: provider, default_toolbox(), Settings(FINSTREAM_DEMO=True))
    app = create_app(manager, ApiSettings(max_streams=100_000))
    tune_gc()  # as `finstream serve` does (unless FINSTREAM_GC_TUNE=0)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                loop=os.environ.get("CAPACITY_LOOP", "auto"))


if __name__ == "__main__":
    main()
