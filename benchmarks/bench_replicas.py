"""Cross-replica delay: from an event's commit on one replica to its delivery to a tailer on
another, LISTEN/NOTIFY beside polling, on the same streams in one run.

    .venv/bin/python benchmarks/bench_replicas.py [--streams 8] [--deltas 150]

Three RunManagers on one PostgreSQL schema, each with its own engine and connections, stand for
three replicas: the writer runs the answers; follower N (LISTEN/NOTIFY, the default) and follower P
(polling every 200 ms, the fallback) tail every answer at once. A commit's time is taken when
the writer's transaction returns (a store batch observer); delivery when the follower's tail
yields the event. Needs PostgreSQL (FINSTREAM_TEST_DATABASE_URL, default postgres@127.0.0.1/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from finstream.providers.base import BlockStop, Finish  # noqa: E402
from finstream.providers.scripted import Pause, ScriptedProvider, text_parts  # noqa: E402
from finstream.runs import RunManager  # noqa: E402
from finstream.settings import Settings  # noqa: E402
from finstream.store import AsyncStore, Store  # noqa: E402
from finstream.store.observe import add_batch_observer  # noqa: E402
from finstream.tools.base import Toolbox  # noqa: E402
from finstream.tools.outputs import OUTPUT_TOOLS  # noqa: E402

PG_URL = os.environ.get("FINSTREAM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SETTINGS = Settings(FINSTREAM_MAX_TOKENS=4096, FINSTREAM_MAX_TOOL_ROUNDS=2)
TOOLBOX = Toolbox(list(OUTPUT_TOOLS))

committed: dict[tuple[str, int], float] = {}


def on_batch(batches, _seconds: float) -> None:  # noqa: ANN001
    now = time.perf_counter()
    for conversation_id, events in batches:
        for e in events:
            committed[(conversation_id, e.seq)] = now


def paced_answer(deltas: int, gap: float) -> list:
    parts: list = []
    for i in range(deltas):
        parts += text_parts(f"w{i} ")
        parts.append(Pause(gap))
    return [*parts, BlockStop(0), Finish("end_turn", {"input_tokens": 1, "output_tokens": deltas})]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def main_async(streams: int, deltas: int, gap: float) -> None:
    schema = f"fs_bench_{uuid.uuid4().hex[:8]}"
    stores = [Store(PG_URL, schema=schema) for _ in range(3)]
    add_batch_observer(on_batch)
    providers = {}
    writer = RunManager(AsyncStore(stores[0]), lambda: providers.pop(next(iter(providers))), TOOLBOX,
                        SETTINGS, listen=False)
    notify_f = RunManager(AsyncStore(stores[1]), lambda: None, TOOLBOX, SETTINGS, poll_interval=0.2)
    poll_f = RunManager(AsyncStore(stores[2]), lambda: None, TOOLBOX, SETTINGS, poll_interval=0.2,
                        listen=False)
    received: dict[str, list[tuple[str, int, float]]] = {"LISTEN/NOTIFY": [], "polling (200 ms)": []}

    async def follow(manager: RunManager, label: str, cid: str, mid: str) -> None:
        async for event in manager.tail(cid, message_id=mid, accumulated=False):
            if event.type == "text_delta":
                # Matched with the commit time afterwards: a notified follower can read the batch
                # before the writer's thread has even recorded that its commit returned.
                received[label].append((cid, event.seq, time.perf_counter()))

    try:
        listener = notify_f.tailer.listener
        assert listener is not None and await listener.ready(), "LISTEN did not connect"
        cids = [stores[0].create_conversation().id for _ in range(streams)]
        tasks = []
        for cid in cids:
            providers[cid] = ScriptedProvider([paced_answer(deltas, gap)])
            mid = await writer.start(cid, "q")
            tasks.append(follow(notify_f, "LISTEN/NOTIFY", cid, mid))
            tasks.append(follow(poll_f, "polling (200 ms)", cid, mid))
        await asyncio.wait_for(asyncio.gather(*tasks), 300)
    finally:
        for m in (writer, notify_f, poll_f):
            await m.shutdown()
        with stores[0].engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        for s in stores:
            s.close()
    print(f"cross-replica delay, commit on the writer -> delivered by a follower's tail "
          f"({streams} streams x {deltas} deltas at {1 / gap:.0f}/s each)")
    for label, got in received.items():
        ms = [max(0.0, at - committed[(cid, seq)]) * 1000 for cid, seq, at in got]
        print(f"  {label:18s} p50 {pct(ms, 0.5):7.1f} ms   p99 {pct(ms, 0.99):7.1f} ms   "
              f"mean {statistics.mean(ms):6.1f} ms   ({len(ms)} events)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--deltas", type=int, default=150)
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between text deltas")
    args = parser.parse_args()
    asyncio.run(main_async(args.streams, args.deltas, args.gap))


if __name__ == "__main__":
    main()
