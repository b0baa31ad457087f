"""Shared by the API tests and benchmarks/bench_sse.py: a real uvicorn on 127.0.0.1 in a thread,
a RunManager over a temp SQLite file, and a small deterministic provider that writes text and
calls the real output tools (chart, table, metric)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from finstream.api.app import create_app
from finstream.api.config import ApiSettings
from finstream.providers.base import BlockStop, Finish, Part, ProviderRequest
from finstream.providers.scripted import ScriptedProvider, text_parts, tool_parts
from finstream.runs import RunManager
from finstream.settings import Settings
from finstream.store import Store
from finstream.tools import default_toolbox

TOKEN = "test-token-8f2c"

CHART = {
    "title": "Revenue",
    "chart_type": "bar",
    "x": ["FY2022", "FY2023", "FY2024"],
    "series": [{"name": "Revenue", "values": [394328000000.0, 383285000000.0, 391035000000.0]}],
    "unit": "USD",
}
TABLE = {
    "title": "Revenue by year",
    "columns": [{"name": "Year"}, {"name": "Revenue"}],
    "rows": [["FY2023", 383285000000.0], ["FY2024", 391035000000.0]],
}
METRIC = {
    "label": "Revenue FY2024",
    "value": 391035000000.0,
    "unit": "USD",
    "delta": 2.02,
    "delta_unit": "percent",
}


def _has_tool_results(request: ProviderRequest) -> bool:
    last = request.messages[-1] if request.messages else {}
    content = last.get("content")
    return isinstance(content, list) and any(b.get("type") == "tool_result" for b in content)


class ChartAnalyst:
    """Round 1: ``words`` words of text, then chart + table + metric tool calls. Round 2: a closing
    sentence. ``delay`` seconds between parts keeps a run live long enough to cut it mid-stream."""

    name = "chart-analyst"

    def __init__(self, words: int = 12, delay: float = 0.0, *, tools: bool = True) -> None:
        self.words = words
        self.delay = delay
        self.tools = tools
        self.emitted: list[float] = []  # perf_counter() when each text part was handed over

    def _parts(self, request: ProviderRequest) -> list[Part]:
        if not self.tools or _has_tool_results(request):
            text = (
                "Revenue rose to $391.0 billion in FY2024."
                if self.tools
                else " ".join(f"w{i}" for i in range(self.words)) + "."
            )
            return [
                *text_parts(text),
                BlockStop(0),
                Finish("end_turn", {"input_tokens": 30, "output_tokens": 9}),
            ]
        intro = " ".join(f"word{i}" for i in range(self.words)) + " "
        calls = [("create_chart", CHART), ("create_table", TABLE), ("create_metric", METRIC)]
        return [
            *text_parts(intro),
            BlockStop(0),
            *tool_parts(calls, start_index=1),
            Finish("tool_use", {"input_tokens": 20, "output_tokens": 40}),
        ]

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Part]:
        for part in self._parts(request):
            if self.delay:
                await asyncio.sleep(self.delay)
            else:
                await asyncio.sleep(0)
            self.emitted.append(time.perf_counter())
            yield part


class LiveServer:
    """create_app(...) on a real uvicorn bound to 127.0.0.1 on a free port, in a daemon thread."""

    def __init__(
        self,
        db_path: Path,
        *,
        provider: Any = None,
        api: ApiSettings | None = None,
        ingest: Any = None,
        **uvicorn_kw: Any,
    ) -> None:
        self.store = Store(f"sqlite:///{db_path}")
        self.provider = provider or ChartAnalyst()
        settings = Settings(FINSTREAM_DEMO=True, FINSTREAM_DATA_DIR=db_path.parent)
        self.manager = RunManager(self.store, lambda: self.provider, default_toolbox(), settings)
        self.api = api or ApiSettings(
            token=TOKEN,
            max_json_bytes=64 * 1024,
            max_upload_bytes=256 * 1024,
            max_request_bytes=1024 * 1024,
            sse_retry_ms=1500,
            sse_ping_seconds=15,
        )
        self.app = create_app(self.manager, self.api, ingest=ingest)
        self.config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            ws_max_size=self.api.max_json_bytes,
            **uvicorn_kw,
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)
        self.port = 0

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.store.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# The API as the upload tests serve it: a real 10-K fits.
UPLOAD_API = ApiSettings(token=TOKEN, max_upload_bytes=10 << 20, max_request_bytes=20 << 20)


@contextmanager
def scripted_server(tmp: Path, steps: Callable[[], list[Any]], api: ApiSettings = UPLOAD_API) -> Iterator[LiveServer]:
    """A LiveServer in ``tmp`` whose model answers with ``steps()`` (a ScriptedProvider)."""
    with LiveServer(tmp / "api.db", provider=ScriptedProvider(steps()), api=api) as live:
        yield live


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sse_data(sse: Any) -> dict[str, Any]:
    return json.loads(sse.data)
