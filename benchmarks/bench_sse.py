"""SSE under load, through the real stack: replay server → real anthropic SDK (ClaudeProvider) →
RunManager → event log (SQLite) → uvicorn → httpx-sse clients.

Prints, for N concurrent conversations (10, 100, 500): per-delta latency percentiles from the moment
the provider hands a text delta over (server side) to the moment a client has read it, events/s,
server RSS; beside the bare SDK reading the same replay streams in the same run. Then the server
RSS with 1,000 idle SSE connections attached to one quiet run.

    python benchmarks/bench_sse.py [--sizes 10,100,500] [--idle 1000] [--delay 0.01]

Clock: time.monotonic() is CLOCK_MONOTONIC, shared by processes on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REPLAY = ROOT / "tests" / "support" / "anthropic_replay.py"
from finstream.settings import Settings  # noqa: E402

STAMP = re.compile(r"^@@(\d+\.\d+)@@")
# The model the app asks for (the strict replay refuses retired model names).
MODEL = Settings.model_fields["model"].default


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"process exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"port {port} never opened")


# ------------------------------------------------------------------------------- server process


def serve(port: int, replay_url: str, db: str, local_delay: float = -1) -> None:
    """The API in this process: ClaudeProvider against the replay server, text parts stamped."""
    _raise_fd_limit()
    import uvicorn

    from finstream.api.app import create_app
    from finstream.api.config import ApiSettings
    from finstream.providers.base import TextPart
    from finstream.providers.claude import ClaudeProvider
    from finstream.runs import RunManager
    from finstream.settings import Settings
    from finstream.store import Store
    from finstream.tools import default_toolbox

    settings = Settings(ANTHROPIC_API_KEY="replay", ANTHROPIC_BASE_URL=replay_url, FINSTREAM_MAX_RETRIES=0,
                        FINSTREAM_READ_TIMEOUT=300)
    claude = ClaudeProvider(settings)

    from finstream.providers.base import BlockStop, Finish
    from finstream.providers.scripted import text_parts

    async def local(request):  # noqa: ANN001, ANN202
        # The same words as the replay's "text" script, from memory: no SDK, no HTTP.
        for part in text_parts("Apple's revenue dipped in FY2023 and recovered in FY2024. Here is the trend and "
                               "the latest figure. Revenue was $391.0B in FY2024, up 2.0% from $383.3B in FY2023, "
                               "after a 2.8% decline from $394.3B in FY2022 (SEC companyfacts)."):
            await asyncio.sleep(local_delay)
            yield part
        yield BlockStop(0)
        yield Finish("end_turn", {"input_tokens": 25, "output_tokens": 40})

    class Stamped:
        """Marks each text delta with the time the provider handed it over."""

        name = "stamped-claude"

        async def stream(self, request):  # noqa: ANN001, ANN201
            source = local(request) if local_delay >= 0 else claude.stream(request)
            async for part in source:
                if isinstance(part, TextPart):
                    part = TextPart(f"@@{time.monotonic():.6f}@@{part.text}")
                yield part

    toolbox = default_toolbox()
    store = Store(f"sqlite:///{db}")
    manager = RunManager(store, lambda: Stamped(), toolbox, settings)
    api = ApiSettings(token=None, max_streams=5000, sse_ping_seconds=15)
    uvicorn.run(create_app(manager, api), host="127.0.0.1", port=port, log_level="warning",
                access_log=False, backlog=4096, timeout_keep_alive=60)


# ------------------------------------------------------------------------------- clients


async def _one_stream(client, cid: str, lat: list[float]) -> int:
    from httpx_sse import aconnect_sse

    n = 0
    async with aconnect_sse(client, "POST", f"/api/conversation/{cid}/message/stream?accumulated=false",
                            json={"message": "Summarise revenue"}) as source:
        async for sse in source.aiter_sse():
            now = time.monotonic()
            n += 1
            if sse.event == "text_delta":
                m = STAMP.match(sse.data.split('"text":"', 1)[1])
                if m:
                    lat.append(now - float(m.group(1)))
            elif sse.event == "error":
                raise RuntimeError(sse.data)
    return n


async def api_round(base: str, n: int) -> dict:
    import httpx

    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=300) as client:
        cids = [(await client.post("/api/conversation", json={})).json()["conversation_id"] for _ in range(n)]
        lat: list[float] = []
        t0 = time.monotonic()
        counts = await asyncio.gather(*(_one_stream(client, c, lat) for c in cids))
        wall = time.monotonic() - t0
    return {"events": sum(counts), "wall": wall, "lat": lat}


async def sdk_round(replay_url: str, n: int) -> dict:
    import anthropic

    client = anthropic.AsyncAnthropic(api_key="replay", base_url=replay_url, max_retries=0)

    async def one() -> int:
        deltas = 0
        stream = await client.messages.create(model=MODEL, max_tokens=100, stream=True,
                                              messages=[{"role": "user", "content": "Summarise revenue"}])
        async for event in stream:
            if event.type == "content_block_delta":
                deltas += 1
        return deltas

    t0 = time.monotonic()
    counts = await asyncio.gather(*(one() for _ in range(n)))
    wall = time.monotonic() - t0
    await client.close()
    return {"events": sum(counts), "wall": wall}


async def idle_round(base: str, n: int, server_pid: int) -> tuple[float, float, int]:
    """n SSE clients attached to one run that has gone quiet; server RSS before and after."""
    import httpx

    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        cid = (await client.post("/api/conversation", json={})).json()["conversation_id"]
        await client.post(f"/api/conversation/{cid}/message?wait=false", json={"message": "q"})
        await asyncio.sleep(0.5)
        before = _rss_mb(server_pid)[0]
        opened: list = []

        async def attach() -> None:
            cm = client.stream("GET", f"/api/conversation/{cid}/message/stream")
            resp = await cm.__aenter__()
            assert resp.status_code == 200, resp.status_code
            opened.append((cm, resp))
            async for _ in resp.aiter_bytes():
                break  # read what the run wrote so far, then sit idle

        for i in range(0, n, 100):  # attach in waves so the accept queue never overflows
            await asyncio.gather(*(attach() for _ in range(min(100, n - i))))
        await asyncio.sleep(1.0)
        after = _rss_mb(server_pid)[0]
        for cm, _ in opened:
            await cm.__aexit__(None, None, None)
        await client.post(f"/api/conversation/{cid}/stop")
    return before, after, len(opened)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def spawn(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, *args], env=env, cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--replay-url", default="")
    parser.add_argument("--db", default="")
    parser.add_argument("--sizes", default="10,100,500")
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.01, help="replay seconds between SSE frames")
    parser.add_argument("--local", action="store_true",
                        help="replace SDK + replay server by an in-memory provider (same words, same delay)")
    parser.add_argument("--local-delay", type=float, default=-1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.replay_url, args.db, args.local_delay)
        return
    _raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="bench_sse_"))
    procs: list[subprocess.Popen] = []
    try:
        text_port, stall_port, api_port, idle_port = (_free_port() for _ in range(4))
        procs.append(spawn([str(REPLAY), "--port", str(text_port), "--script", "text", "--delay", str(args.delay)]))
        procs.append(spawn([str(REPLAY), "--port", str(stall_port), "--script", "stall"]))
        _wait_port(text_port, procs[0])
        _wait_port(stall_port, procs[1])
        text_url, stall_url = f"http://127.0.0.1:{text_port}", f"http://127.0.0.1:{stall_port}"
        extra = ["--local-delay", str(args.delay)] if args.local else []
        api = spawn([__file__, "--serve", "--port", str(api_port), "--replay-url", text_url, "--db", str(tmp / "a.db"), *extra])
        procs.append(api)
        _wait_port(api_port, api)
        base = f"http://127.0.0.1:{api_port}"
        asyncio.run(api_round(base, 2))  # warm-up
        print(f"replay delay {args.delay * 1000:.0f} ms/frame; latency = provider hands a delta over -> "
              f"client has read it; "
              f"provider: {'in-memory' if args.local else 'ClaudeProvider via the replay server'}")
        print("events/s: SSE events the clients read (the stack may merge text deltas under load); "
              "SDK ev/s: content_block_delta events the bare SDK read")
        print(f"{'N':>5} {'bare SDK s':>10} {'API s':>8} {'ratio':>6} {'events/s':>9} {'SDK ev/s':>9} "
              f"{'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} {'RSS MB':>7} {'peak MB':>8} "
              f"{'srv CPU%':>8} {'cli CPU%':>8}")
        for n in [int(x) for x in args.sizes.split(",") if x]:
            sdk = asyncio.run(sdk_round(text_url, n))
            cpu0, own0 = _cpu_s(api.pid), time.process_time()
            res = asyncio.run(api_round(base, n))
            cpu, own = _cpu_s(api.pid) - cpu0, time.process_time() - own0
            rss, peak = _rss_mb(api.pid)
            lat = res["lat"]
            print(f"{n:>5} {sdk['wall']:>10.2f} {res['wall']:>8.2f} {res['wall'] / sdk['wall']:>6.2f} "
                  f"{res['events'] / res['wall']:>9.0f} {sdk['events'] / sdk['wall']:>9.0f} "
                  f"{pct(lat, 50):>7.1f} {pct(lat, 90):>7.1f} {pct(lat, 99):>7.1f} {max(lat) * 1000:>7.1f} "
                  f"{rss:>7.0f} {peak:>8.0f} {100 * cpu / res['wall']:>8.0f} {100 * own / res['wall']:>8.0f}",
                  flush=True)
            if lat:
                assert statistics.fmean(lat) >= 0
        if args.idle:
            idle = spawn([__file__, "--serve", "--port", str(idle_port), "--replay-url", stall_url, "--db", str(tmp / "i.db")])
            procs.append(idle)
            _wait_port(idle_port, idle)
            before, after, opened = asyncio.run(idle_round(f"http://127.0.0.1:{idle_port}", args.idle, idle.pid))
            print(f"idle SSE: {opened} connections on one quiet run: server RSS {before:.0f} MB -> {after:.0f} MB "
                  f"(+{after - before:.0f} MB, {(after - before) * 1024 / max(opened, 1):.0f} KB per connection)")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
