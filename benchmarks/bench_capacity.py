"""Capacity beside Chainlit 2: concurrent real-paced streams each server holds with p99 added delay
under 100 ms, and its CPU per stream, measured side by side in one run.

    .venv/bin/python benchmarks/bench_capacity.py [--levels 25,50,100,...] [--baseline DIR] [--burst]
    .venv/bin/python benchmarks/bench_capacity.py --cost-split 50   (set-up vs per-token CPU)

Both servers stream the same replay (capacity_replay.py: 100 text deltas, one every 40 ms, each
stamped with the time the server's streaming code got it) to their own clients: finstream's real
API app (RunManager, event log on a SQLite file, SSE; capacity_server.py) and a minimal Chainlit 2
app (``Message.stream_token``; capacity_chainlit_app.py) read through socket.io over a WebSocket as
its web client does. A level N is N clients asking ``--rounds`` questions each in a row, their
starts staggered over one stream's length, so N streams are open at once, at every stage of an
answer (``--burst``: all N start at the same instant, one stream each: that measures N
simultaneous set-ups more than N streams held). The load generator (capacity_load.py, the same
lean asyncio client code for both; its CPU is printed beside the server's) is another process on
the same machine; a level that fails is tried once more (the machine is shared), and everything
is on 127.0.0.1. Every checkout (``--baseline``) is served by this checkout's scripts, so all
stream the same replay. Chainlit lives in its own venv (.venv-bench, from
benchmarks/requirements-bench.txt: its pins differ from the app's); it is (re)installed when that
file changes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BENCH_VENV = ROOT / ".venv-bench"
sys.path.insert(0, str(HERE))
from capacity_replay import GAP, TOKENS  # noqa: E402

LIMIT_MS = 100.0
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def wait_up(url: str, proc: subprocess.Popen, limit: float = 90) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url}: not up after {limit} s")


def bench_python() -> Path | None:
    """The bench venv's python (created from requirements-bench.txt if missing), or None."""
    python = BENCH_VENV / "bin" / "python"
    wanted = (HERE / "requirements-bench.txt").read_text()
    installed = BENCH_VENV / "requirements-bench.txt"  # what the venv was installed from
    if not (BENCH_VENV / "bin" / "chainlit").exists() or not installed.exists() or installed.read_text() != wanted:
        print("installing .venv-bench for Chainlit (benchmarks/requirements-bench.txt) ...", flush=True)
        try:
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True, timeout=120)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "-r",
                            str(HERE / "requirements-bench.txt")], check=True, timeout=900)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"Chainlit skipped: could not install it ({exc})")
            return None
        installed.write_text(wanted)
    return python


def p99(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(0.99 * len(values)))] if values else float("inf")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_level(kind: str, python: Path, url: str, pid: int, n: int, rounds: int, burst: bool,
              env: dict[str, str] | None = None) -> dict:
    before, client_before = cpu_seconds(pid), children_cpu()
    t0 = time.monotonic()
    done = subprocess.run([str(python), str(HERE / "capacity_load.py"), kind, url, str(n), str(rounds),
                           "burst" if burst else "staggered"],
                          capture_output=True, text=True, timeout=TOKENS * GAP * 20 * rounds + 120, env=env)
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pid) - before
    client = children_cpu() - client_before  # the load generator's CPU (it must not be the limit)
    if done.returncode != 0:
        return {"n": n, "ok": False, "p99_ms": float("inf"), "cpu_per_stream": float("nan"),
                "note": done.stderr.strip().splitlines()[-1:] or ["load generator failed"]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    ms = [d * 1000 for d in result["delays"]]
    streams = result["streams"]
    ok = result["complete"] == streams
    return {"n": n, "ok": ok, "p99_ms": p99(ms), "p50_ms": sorted(ms)[len(ms) // 2] if ms else 0,
            "cpu_per_stream": cpu / (streams * TOKENS * GAP),
            "client_per_stream": client / (streams * TOKENS * GAP),
            "wall": wall, "cpu": cpu, "streams": streams,
            "note": result["errors"] if not ok else []}


def start_finstream(root: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # This checkout's benchmark scripts (replay, server) serve every checkout's finstream.
    proc = subprocess.Popen([sys.executable, str(HERE / "capacity_server.py"), str(port), str(root)],
                            cwd=root, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def start_chainlit(env: dict[str, str], tmp: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([str(BENCH_VENV / "bin" / "chainlit"), "run", str(HERE / "capacity_chainlit_app.py"),
                             "--headless", "--host", "127.0.0.1", "--port", str(port)], cwd=tmp,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env={**env, "CHAINLIT_TELEMETRY_ENABLED": "false"})
    return proc, f"http://127.0.0.1:{port}"


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


SHORT = 2  # tokens of the short replay of --cost-split


def cost_split(n: int, rounds: int, chainlit: bool, tmp: Path) -> None:
    """Each server's CPU per stream with a 2-token and with the full replay, fresh servers for
    each: the difference is what the extra tokens cost, the rest is the stream's set-up (and
    end). Printed as set-up ms per stream and µs per token."""
    per_stream: dict[tuple[str, int], float] = {}
    for tokens in (SHORT, TOKENS):
        env = {**os.environ, "CAPACITY_TOKENS": str(tokens)}
        servers = {"finstream": start_finstream(ROOT, env, tmp / f"split-fs-{tokens}.log")}
        if chainlit:
            servers["chainlit"] = start_chainlit(env, tmp, tmp / f"split-cl-{tokens}.log")
        try:
            for kind, (proc, url) in servers.items():
                wait_up(url + ("/" if kind == "chainlit" else "/healthz"), proc)
            for kind, (proc, url) in servers.items():
                r = run_level(kind, Path(sys.executable), url, proc.pid, n, rounds, False, env)
                if not r["ok"]:
                    print(f"  {kind} {tokens}-token replay failed: {r['note']}")
                    continue
                per_stream[(kind, tokens)] = r["cpu"] / r["streams"]
        finally:
            stop([p for p, _ in servers.values()])
    print(f"\nserver CPU per stream, {n} clients x {rounds} streams, a {SHORT}-token and a {TOKENS}-token replay "
          "(fresh servers each)")
    for kind in ("finstream", "chainlit"):
        if (kind, SHORT) not in per_stream or (kind, TOKENS) not in per_stream:
            continue
        token_cost = (per_stream[(kind, TOKENS)] - per_stream[(kind, SHORT)]) / (TOKENS - SHORT)
        setup = per_stream[(kind, SHORT)] - SHORT * token_cost
        print(f"  {kind:10s} {per_stream[(kind, TOKENS)] * 1000:6.1f} ms per {TOKENS}-token stream = set-up and end "
              f"{setup * 1000:5.1f} ms + {token_cost * 1e6:5.0f} µs per token")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="25,50,100,150,200,250,300,400")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="also serve another checkout of finstream (e.g. the commit before a change), "
                        "interleaved with this one: before/after in one run")
    parser.add_argument("--gc-default", action="store_true",
                        help="also serve this checkout with FINSTREAM_GC_TUNE=0 (CPython's GC defaults instead "
                        "of the server's gc.freeze and higher young threshold)")
    parser.add_argument("--no-chainlit", action="store_true")
    parser.add_argument("--rounds", type=int, default=3,
                        help="streams each client asks in a row (the level is held for the middle ones)")
    parser.add_argument("--burst", action="store_true",
                        help="all clients start at once, one stream each (N simultaneous set-ups; the "
                        "earlier method) instead of staggered starts over one stream's length")
    parser.add_argument("--every-level", action="store_true",
                        help="run every level on every server, also after one failed (CPU per stream "
                        "compared at equal load, over repeated levels such as 50,50,50)")
    parser.add_argument("--cost-split", type=int, default=0, metavar="N",
                        help="instead of the levels: N clients on fresh servers with a 2-token and the full "
                        "replay, to part each server's CPU per stream into set-up and per-token cost")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="finstream-capacity-"))
    servers: dict[str, tuple[subprocess.Popen, str, Path]] = {}
    variants = [("finstream", ROOT, {})]
    if args.gc_default:
        variants.append(("fs-gc-def", ROOT, {"FINSTREAM_GC_TUNE": "0"}))
    if args.baseline is not None:
        variants.append(("fs-before", args.baseline.resolve(), {}))
    cl_python = None if args.no_chainlit else bench_python()
    if args.cost_split:
        cost_split(args.cost_split, args.rounds, cl_python is not None, tmp)
        return
    for kind, root, env in variants:
        proc, url = start_finstream(root, {**os.environ, **env}, tmp / f"{kind}.log")
        servers[kind] = (proc, url, Path(sys.executable))
    if cl_python is not None:
        cl, url = start_chainlit(dict(os.environ), tmp, tmp / "chainlit.log")
        servers["chainlit"] = (cl, url, Path(sys.executable))  # one load generator
    try:
        for kind, (proc, url, _) in servers.items():
            wait_up(url + ("/" if kind == "chainlit" else "/healthz"), proc)
        print(f"load average at start: {os.getloadavg()[0]:.1f}")
        print(f"capacity: {TOKENS} text deltas per stream at {1 / GAP:.0f}/s, p99 added delay limit "
              f"{LIMIT_MS:.0f} ms (server and load generator share this machine's {os.cpu_count()} cores); "
              + ("all clients start at once, one stream each" if args.burst else
                 f"client starts staggered over one stream, {args.rounds} streams each in a row"))
        held: dict[str, int] = {k: 0 for k in servers}
        cpu: dict[str, float] = {}
        per_level: dict[tuple[str, int], list[float]] = {}
        live = set(servers)
        for n in levels:
            for kind in list(servers):  # interleaved: a noisy neighbour hurts both alike
                if kind not in live:
                    continue
                proc, url, python = servers[kind]
                protocol = "chainlit" if kind == "chainlit" else "finstream"
                rounds = 1 if args.burst else args.rounds
                r = run_level(protocol, python, url, proc.pid, n, rounds, args.burst)
                if not (r["ok"] and r["p99_ms"] < LIMIT_MS):  # once more: a neighbour's burst
                    r = run_level(protocol, python, url, proc.pid, n, rounds, args.burst)
                status = "ok" if r["ok"] and r["p99_ms"] < LIMIT_MS else "over"
                print(f"  {kind:10s} {n:4d} streams: p50 {r.get('p50_ms', 0):7.1f} ms  p99 {r['p99_ms']:8.1f} ms"
                      f"  server CPU {r['cpu_per_stream'] * 100:5.2f}% of a core per stream"
                      f" (load generator {r.get('client_per_stream', float('nan')) * 100:5.2f}%)  {status}"
                      + (f"  {r['note']}" if r["note"] else ""), flush=True)
                per_level.setdefault((kind, n), []).append(r["cpu_per_stream"])
                if status == "ok":
                    held[kind] = max(held[kind], n)
                    cpu[kind] = r["cpu_per_stream"]
                elif not args.every_level:
                    live.discard(kind)
            if not live:
                break
        print("\nconcurrent streams held with p99 added delay < 100 ms (largest level tried that passed)")
        for kind, n in held.items():
            c = cpu.get(kind)
            print(f"  {kind:10s} {n:5d}   server CPU per stream {c * 100:.2f}% of a core" if c is not None
                  else f"  {kind:10s} {n:5d}")
        if args.every_level:
            print("\nserver CPU per stream, median over the repeats of each level (% of a core)")
            for n in sorted(set(levels)):
                row = "  ".join(f"{kind} {statistics.median(per_level[(kind, n)]) * 100:.2f}"
                                for kind in servers if (kind, n) in per_level)
                print(f"  {n:4d} streams: {row}")
        if "chainlit" in held and held["chainlit"]:
            for kind in held:
                if kind != "chainlit":
                    print(f"  {kind} / chainlit: {held[kind] / held['chainlit']:.1f}x (target >= 2x)")
        print(f"load average at end: {os.getloadavg()[0]:.1f}")
    finally:
        stop([proc for proc, _, _ in servers.values()])


if __name__ == "__main__":
    main()
