"""CPU per event of the SSE transport alone, in one process: a tail fed in committed batches (as a
run's durable tailer is) → sse._frames → the SSE response → GuardMiddleware and ObserveMiddleware
→ a socket that always takes the bytes. No database, no network, no other process: what is left
is the per-event work of the code in finstream/api, so it can be compared across checkouts on a
noisy machine (process CPU time, best of several repeats).

    .venv/bin/python benchmarks/bench_transport.py [--events 20000] [--repeats 5]
    .venv/bin/python benchmarks/before_after.py --baseline /tmp/base --rounds 4 bench_transport.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sse_starlette import EventSourceResponse  # noqa: E402

from finstream import events as ev  # noqa: E402
from finstream.api import sse  # noqa: E402
from finstream.api.config import ApiSettings  # noqa: E402
from finstream.api.guards import GuardMiddleware  # noqa: E402
from finstream.api.observe import ObserveMiddleware  # noqa: E402


async def one_stream(total: int, burst: int) -> float:
    """CPU seconds per event for ``total`` text deltas delivered ``burst`` at a time."""
    q: asyncio.Queue[ev.Event | None] = asyncio.Queue()
    delivered = asyncio.Event()
    sent = [0]

    async def tail() -> AsyncIterator[ev.Event]:
        while (event := await q.get()) is not None:
            yield event

    response_class = getattr(sse, "_EventStream", EventSourceResponse)
    response = response_class(sse._frames(tail(), accumulated=False, retry_ms=2000, release=lambda: None),
                              ping=15, sep="\n", send_timeout=30, headers={"Cache-Control": "no-store"})

    async def endpoint(scope: dict, receive, send) -> None:  # noqa: ANN001
        await response(scope, receive, send)

    app = ObserveMiddleware(GuardMiddleware(endpoint, ApiSettings(token=None)))  # type: ignore[arg-type]
    gone = asyncio.Event()

    async def receive() -> dict:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body":
            sent[0] += message.get("body", b"").count(b"\n\n")
            if sent[0] >= target[0]:
                delivered.set()

    scope = {"type": "http", "method": "GET", "path": "/api/conversation/c1/message/stream",
             "headers": [(b"host", b"127.0.0.1:8000")], "query_string": b"", "http_version": "1.1",
             "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000), "root_path": ""}
    target = [0]
    server = asyncio.create_task(app(scope, receive, send))
    await asyncio.sleep(0)
    seq = 0
    c0 = time.process_time()
    while seq < total:
        delivered.clear()
        for _ in range(burst):
            seq += 1
            q.put_nowait(ev.TextDelta(seq=seq, message_id="m1", text=f"w{seq} "))
        target[0] = seq
        await delivered.wait()
    cpu = time.process_time() - c0
    q.put_nowait(None)
    await asyncio.wait_for(server, 10)
    return cpu / total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("SSE transport CPU per text delta (best of repeats), tail -> frames -> response -> middlewares")
    for burst in (1, 4, 16):
        best = min(asyncio.run(one_stream(args.events, burst)) for _ in range(args.repeats))
        print(f"  committed batches of {burst:2d} event(s): {best * 1e6:6.1f} µs per event")


if __name__ == "__main__":
    main()
