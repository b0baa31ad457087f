"""Waiting for a server the test started: bounded, and failing with the reason."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


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


def wait_port(port: int, limit: float = 30) -> None:
    """Until something listens on 127.0.0.1:``port`` (or ``limit`` seconds pass)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
