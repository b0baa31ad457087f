"""Waiting for a server the test started: bounded, and failing with the reason."""

from __future__ import annotations

import socket
import time

from deploy.local import wait_http

__all__ = ["wait_http", "wait_port"]


def wait_port(port: int, limit: float = 30) -> None:
    """Until something listens on 127.0.0.1:``port`` (or ``limit`` seconds pass)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
