"""Event-log benchmark: what persistence costs a run, on SQLite and PostgreSQL, in one run.

    .venv/bin/python benchmarks/bench_eventlog.py [--words 20000] [--rounds 3] [--quick] [--cpython-gc]

Prints, side by side:
  1. run_turn alone (no persistence): events/s of the streaming core;
  2. a whole run through RunManager with the log's events discarded (the run machinery alone:
     fan-out, group-commit writer, thread hops), then with the real log, per database;
  3. raw append_batch throughput (batches of 32) per database;
  4. RSS of 1,000 idle tailers on one live run.
The GC is tuned as `finstream serve` tunes it (api/server.py tune_gc), since that is where a
RunManager runs; ``--cpython-gc`` keeps CPython's defaults. Ratios, not absolute times, are the
result (the machine is shared). PostgreSQL is taken from
FINSTREAM_TEST_DATABASE_URL (default postgres@127.0.0.1:5432/test) and skipped if unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from finstream import events as ev  # noqa: E402
from finstream.agent import Turn, run_turn  # noqa: E402
from finstream.providers.scripted import Gate, Pause, ScriptedProvider, text_parts, text_step  # noqa: E402
from finstream.runs import RunManager  # noqa: E402
from finstream.settings import Settings  # noqa: E402
from finstream.store import AsyncStore, Store  # noqa: E402
from finstream.tools.base import Toolbox  # noqa: E402
from finstream.tools.outputs import OUTPUT_TOOLS  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOOLBOX = Toolbox(list(OUTPUT_TOOLS))
SETTINGS = Settings(FINSTREAM_MAX_TOKENS=4096, FINSTREAM_MAX_TOOL_ROUNDS=4)


def answer(words: int) -> str:
    return " ".join(f"word{i}" for i in range(words))


def script(words: int, paced: bool) -> list:
    """The answer as one model step; paced: a 5 ms pause every 10 words (~2,000 events/s, some
    20x the rate Claude streams at), else as fast as the CPU allows."""
    step = text_step(answer(words))
    if not paced:
        return step
    out: list = []
    for i, part in enumerate(step):
        if i and i % 10 == 0:
            out.append(Pause(0.005))
        out.append(part)
    return out


async def bench_core(words: int, paced: bool = False) -> float:
    """events/s of run_turn with nothing persisted."""
    provider = ScriptedProvider([script(words, paced)])
    turn = Turn("c", "m", [{"role": "user", "content": "q"}])
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    async for _ in run_turn(provider, TOOLBOX, turn, max_tokens=4096, max_rounds=4):
        n += 1
    CPU_RATES.setdefault("core", []).append(n / (time.process_time() - c0))
    return n / (time.perf_counter() - t0)


# events per CPU-second of this process (all its threads), beside the wall-clock rates: on a
# shared machine, waiting for a core is not the log's cost, the CPU it burns is.
CPU_RATES: dict[str, list[float]] = {}


async def bench_run(
    store: Store, words: int, batch_size: int | None = None, paced: bool = False
) -> tuple[float, float]:
    """(events/s while streaming, setup ms) of a whole run through RunManager.

    Streaming is timed from start() returning (question and messages stored, run launched) to the
    run's end, which comes after its last batch is durable, so this is the log's write throughput
    as the stream sees it."""
    provider = ScriptedProvider([script(words, paced)])
    astore = AsyncStore(store)  # type: ignore[arg-type]  (EventsDiscarded too)
    options = {"batch_size": batch_size} if batch_size else {}
    manager = RunManager(astore, lambda: provider, TOOLBOX, SETTINGS, **options)
    cid = store.create_conversation().id
    t0 = time.perf_counter()
    mid = await manager.start(cid, "q")
    t1, c1 = time.perf_counter(), time.process_time()
    run = manager.live.of_message(mid)  # the benchmark times the run itself
    await run.done.wait()
    t2, c2 = time.perf_counter(), time.process_time()
    result = await manager.wait(mid)
    assert result["status"] == "complete", result
    n = manager_events(store, cid)
    astore._pool.shutdown(wait=True)
    CPU_RATES.setdefault(LABEL[0], []).append(n / (c2 - c1))
    return n / (t2 - t1), (t1 - t0) * 1000


LABEL = [""]  # the variant bench_run is timing (for CPU_RATES)


class EventsDiscarded:
    """A store whose append_batch keeps only the message patch (status, release): what a run costs
    without the event log, so the log's own share can be told from the run machinery's."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.discarded: dict[str, int] = {}

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._store, name)

    def append_batch(self, conversation_id: str, events, *, message_id=None, patch=None) -> None:  # noqa: ANN001
        self.discarded[conversation_id] = self.discarded.get(conversation_id, 0) + len(events)
        if patch is not None:
            self._store.append_batch(conversation_id, [], message_id=message_id, patch=patch)

    def append_batches(self, batches) -> None:  # noqa: ANN001 - the group commit's entry point
        for conversation_id, events, message_id, patch in batches:
            self.append_batch(conversation_id, events, message_id=message_id, patch=patch)


def manager_events(store: Store | EventsDiscarded, cid: str) -> int:
    if isinstance(store, EventsDiscarded):
        return store.discarded[cid]
    return store.last_seq(cid)


def bench_append(store: Store, n: int, batch: int = 32) -> float:
    cid = store.create_conversation().id
    turn = store.begin_turn(cid, "q")
    mid = turn.assistant.id
    events = [ev.TextDelta(seq=i, message_id=mid, text=f"w{i} ") for i in range(1, n + 1)]
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        store.append_batch(cid, events[i : i + batch])
    return n / (time.perf_counter() - t0)


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def bench_idle_tailers(store: Store, count: int = 1000) -> tuple[float, float, int]:
    """KB of RSS and of Python heap per idle tailer attached to one live run (blocked on a gate)."""
    gate = asyncio.Event()
    provider = ScriptedProvider([[*text_parts("a few words first "), Gate(gate), *text_step("end.")]])
    astore = AsyncStore(store)
    manager = RunManager(astore, lambda: provider, TOOLBOX, SETTINGS)
    cid = store.create_conversation().id
    mid = await manager.start(cid, "q")
    async for e in manager.tail(cid):
        if e.seq >= 4:
            break
    received = [0] * count

    async def tailer(i: int) -> None:
        async for _ in manager.tail(cid):
            received[i] += 1

    gc.collect()
    tracemalloc.start()
    before, heap_before = rss_kb(), tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(tailer(i)) for i in range(count)]
    for _ in range(20):
        await asyncio.sleep(0.01)  # all attached and idle
    gc.collect()
    after, heap_after = rss_kb(), tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    gate.set()
    await asyncio.gather(*tasks)
    await manager.wait(mid)
    astore._pool.shutdown(wait=True)
    assert len(set(received)) == 1, "every tailer got the same events"
    return (after - before) / count, (heap_after - heap_before) / 1024 / count, received[0]


def uncompacted(store: Store) -> Store:
    """A second store on the same database that writes one row per event (the log before
    store/compact.py), for the before/after comparison."""
    other = Store(store.url, schema=store.schema, migrate_now=False)
    other.compact_log = False
    return other


def open_stores(tmp: Path) -> list[tuple[str, Store, str | None]]:
    stores = [("sqlite", Store(f"sqlite:///{tmp / 'bench.db'}"), None)]
    try:
        schema = f"fs_bench_{uuid.uuid4().hex[:8]}"
        stores.append(("postgresql", Store(PG_URL, schema=schema), schema))
    except Exception as exc:
        print(f"PostgreSQL skipped: {type(exc).__name__}: {exc}")
    return stores


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=20000)
    parser.add_argument("--paced-words", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=None, help="RunManager batch_size (default: its own)")
    parser.add_argument("--quick", action="store_true",
                        help="only the CPU-bound model, compact log (issue 15's figure): no row-per-event "
                        "variant, paced model, write capacity or idle tailers")
    parser.add_argument("--cpython-gc", action="store_true",
                        help="keep CPython's GC defaults (FINSTREAM_GC_TUNE=0) instead of tuning the GC as "
                        "`finstream serve` does (api/server.py tune_gc: gc.freeze, a higher young threshold)")
    args = parser.parse_args()
    # As served: the RunManager runs inside `finstream serve`, which tunes the GC at start-up.
    if not args.cpython_gc:
        from finstream.api.server import gc_tuned, tune_gc

        tune_gc()
        print("GC as `finstream serve` sets it: frozen at start-up, thresholds "
              f"{gc.get_threshold()}" if gc_tuned() else "GC: CPython's defaults (FINSTREAM_GC_TUNE=0)")
    else:
        print(f"GC: CPython's defaults, thresholds {gc.get_threshold()}")
    tmp = Path(tempfile.mkdtemp(prefix="finstream-bench-"))
    stores = open_stores(tmp)
    # First, while the heap is fresh (so RSS growth is real): 1,000 idle tailers.
    per, py_per, got = (0.0, 0.0, 0) if args.quick else asyncio.run(bench_idle_tailers(stores[0][1]))
    models = ((False, args.words),) if args.quick else ((False, args.words), (True, args.paced_words))
    for paced, words in models:
        core: list[float] = []
        variants = [("no log (events discarded)", EventsDiscarded(stores[0][1]))]
        for name, store, _ in stores:
            if not args.quick:
                variants.append((f"{name}, row per event", uncompacted(store)))
            variants.append((f"{name}, compact log", store))
        runs: dict[str, list[float]] = {name: [] for name, _ in variants}
        setup: dict[str, list[float]] = {name: [] for name, _ in variants}
        # Interleaved rounds, so a noisy neighbour hurts every variant alike.
        for _ in range(args.rounds):
            core.append(asyncio.run(bench_core(words, paced)))
            for name, store in variants:
                LABEL[0] = f"{paced}:{name}"
                rate, ms = asyncio.run(bench_run(store, words, args.batch, paced))
                runs[name].append(rate)
                setup[name].append(ms)
        base = statistics.median(core)
        label = "paced model (~2,000 events/s)" if paced else "CPU-bound model (as fast as possible)"
        print(f"\n{label}: {words} words (~{words + 3} events), median of {args.rounds} interleaved rounds")
        print(f"{'  run_turn, no persistence':40s} {base:>9,.0f} events/s  1.00")
        bare = statistics.median(runs["no log (events discarded)"])
        core_cpu = statistics.median(CPU_RATES.pop("core"))
        bare_cpu = statistics.median(CPU_RATES[f"{paced}:no log (events discarded)"])
        for name, values in runs.items():
            rate = statistics.median(values)
            cpu = statistics.median(CPU_RATES[f"{paced}:{name}"])
            print(f"{'  run, ' + name:40s} {rate:>9,.0f} events/s  {rate / base:.2f}"
                  f"  vs unpersisted run {rate / bare:.2f}"
                  f"  | per CPU-second {cpu / core_cpu:.2f}, vs unpersisted run {cpu / bare_cpu:.2f}"
                  f"  (start(): {statistics.median(setup[name]):.1f} ms)")
    if not args.quick:
        print("\nlog write capacity (append_batch in a loop, no stream)")
        for name, store, _ in stores:
            for label, target in (("row per event", uncompacted(store)), ("compact", store)):
                for size in (32, 256):
                    rate = bench_append(target, 20000, size)
                    print(f"{f'  append_batch({size}) {label} on ' + name:48s} {rate:>9,.0f} events/s")
        print(f"\n{'1,000 idle tailers on one live run':40s} {per:>9.1f} KB RSS each "
              f"({per * 1000 / 1024:.1f} MB), {py_per:.1f} KB Python heap each; each then got {got} events")
    for _name, store, schema in stores:
        if schema:
            with store.engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        store.close()


if __name__ == "__main__":
    main()
