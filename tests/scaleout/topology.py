"""deploy/compose.yaml's topology without a container engine: two ``finstream serve`` and two
``streamlit run`` processes on 127.0.0.1, one PostgreSQL schema, and Debian's HAProxy in front
with deploy/haproxy.cfg itself (its addresses come from the environment, as in compose)."""

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

from tests.support.waiting import wait_http

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Topology:
    def __init__(self, tmp: Path, db_url: str, schema: str, *, heartbeat: float = 1.0,
                 stale_after: float = 4.0, demo_delay: float = 0.1) -> None:
        self.tmp = tmp
        self.ports = {name: free_port() for name in ("api", "api1", "api2", "app", "app1", "app2")}
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
