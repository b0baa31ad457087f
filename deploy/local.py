"""deploy/compose.yaml's topology without a container engine: two ``finstream serve`` and two
``streamlit run`` processes on 127.0.0.1, one PostgreSQL schema, and Debian's HAProxy in front
with deploy/haproxy.cfg itself (its addresses come from the environment, as in compose).

``make topology`` runs it in the foreground (API on :8000, app on :8501, as in compose) until
Ctrl-C; tests/scaleout starts the same class on free ports.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"


def wait_http(url: str, proc: subprocess.Popen | None, limit: float = 90) -> None:
    """Until ``url`` answers 200; fails at once if ``proc`` exits, or after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url}: not up after {limit} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Topology:
    def __init__(self, tmp: Path, db_url: str, schema: str, *, heartbeat: float = 1.0,
                 stale_after: float = 4.0, demo_delay: float = 0.1,
                 fixed: dict[str, int] | None = None) -> None:
        self.tmp = tmp
        self.ports = {name: free_port() for name in ("api", "api1", "api2", "app", "app1", "app2")}
        self.ports.update(fixed or {})
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "FINSTREAM_API_TOKEN",
                                 "FINSTREAM_APP_TOKEN")}
        self.env.update(
            PYTHONPATH=str(ROOT), DATABASE_URL=db_url, FINSTREAM_DB_SCHEMA=schema, FINSTREAM_DEMO="1",
            FINSTREAM_DEMO_DELAY=str(demo_delay), FINSTREAM_HEARTBEAT_SECONDS=str(heartbeat),
            FINSTREAM_STALE_AFTER_SECONDS=str(stale_after), FINSTREAM_LOG_FORMAT="json",
            FINSTREAM_DATA_DIR=str(tmp / "data"),
        )
        self.heartbeat = heartbeat
        self.stale_after = stale_after

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def app(self) -> str:
        return f"http://127.0.0.1:{self.ports['app']}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def _spawn(self, name: str, argv: list[str]) -> None:
        env = {**self.env, "FINSTREAM_INSTANCE_NAME": name}
        log = (self.tmp / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def start_api(self, name: str) -> None:
        self._spawn(name, [sys.executable, "-m", "finstream", "serve", "--host", "127.0.0.1",
                           "--port", str(self.ports[name])])

    def start_app(self, name: str) -> None:
        self._spawn(name, [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                           "--server.address", "127.0.0.1", "--server.port", str(self.ports[name]),
                           "--server.headless", "true", "--browser.gatherUsageStats", "false"])

    def start(self, *, apps: bool = True) -> Topology:
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        for name in ("api1", "api2"):
            self.start_api(name)
        if apps:
            for name in ("app1", "app2"):
                self.start_app(name)
        lb_env = {
            **self.env, "API_BIND": f"127.0.0.1:{self.ports['api']}",
            "APP_BIND": f"127.0.0.1:{self.ports['app']}",
            **{f"{n.upper()}_ADDR": f"127.0.0.1:{self.ports[n]}" for n in ("api1", "api2", "app1", "app2")},
        }
        log = (self.tmp / "haproxy.log").open("ab")
        self.procs["lb"] = subprocess.Popen([haproxy, "-db", "-f", str(HAPROXY_CFG)], cwd=self.tmp,
                                            env=lb_env, stdout=log, stderr=subprocess.STDOUT)
        for name in ("api1", "api2"):
            wait_http(f"{self.url(name)}/readyz", self.procs[name])
        if apps:
            for name in ("app1", "app2"):
                wait_http(f"{self.url(name)}/_stcore/health", self.procs[name])
        wait_http(f"{self.api}/healthz", self.procs["lb"])
        self.wait_lb_up(("api1", "api2"))
        return self

    def wait_lb_up(self, names: tuple[str, ...], limit: float = 30) -> None:
        """Until HAProxy's health checks have sent a request to each of ``names``."""
        seen: set[str] = set()
        deadline = time.monotonic() + limit
        while seen != set(names) and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.api}/healthz", timeout=2) as r:
                    seen.add(r.headers.get("X-Finstream-Replica", ""))
            except OSError:
                time.sleep(0.1)
        if not set(names) <= seen:
            raise RuntimeError(f"load balancer reached only {sorted(seen)}")

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")


def main() -> int:
    """Start the topology in the foreground and keep it up until Ctrl-C (or SIGTERM)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--app-port", type=int, default=8501)
    parser.add_argument("--schema", default="finstream_local",
                        help="PostgreSQL schema shared by the replicas (created if missing)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data" / "topology",
                        help="logs of each process and the replicas' local data")
    args = parser.parse_args()
    db_url = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    topo = Topology(args.data_dir, db_url, args.schema, heartbeat=5.0, stale_after=30.0,
                    demo_delay=0.03, fixed={"api": args.api_port, "app": args.app_port})
    if "ANTHROPIC_API_KEY" in os.environ:  # Claude when a key is set, as in compose
        topo.env["ANTHROPIC_API_KEY"] = os.environ["ANTHROPIC_API_KEY"]
        topo.env.pop("FINSTREAM_DEMO", None)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        topo.start()
        print(f"API  {topo.api}  (round robin over api1 {topo.url('api1')}, api2 {topo.url('api2')})")
        print(f"app  {topo.app}  (sticky by cookie over app1 {topo.url('app1')}, app2 {topo.url('app2')})")
        print(f"PostgreSQL {db_url.split('@')[-1]} schema {args.schema}; logs in {args.data_dir}")
        print("Ctrl-C stops every process.", flush=True)
        while all(p.poll() is None for p in topo.procs.values()):
            time.sleep(1)
        dead = [n for n, p in topo.procs.items() if p.poll() is not None]
        print(f"stopped: {', '.join(dead)} exited; see {args.data_dir}/<name>.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        topo.stop()


if __name__ == "__main__":
    raise SystemExit(main())
