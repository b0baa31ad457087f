"""``python -m finstream serve`` as a real subprocess: loopback-only without a token, the token
never in the logs, the default app (own store and demo analyst) answering end to end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from httpx_sse import connect_sse

from finstream import events as ev

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-token-do-not-log"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FINSTREAM_", "ANTHROPIC_", "DATABASE_URL"))
    }
    env.update(
        FINSTREAM_DATA_DIR=str(tmp_path), FINSTREAM_DEMO="1", FINSTREAM_DEMO_DELAY="0", **extra
    )
    env["PYTHONPATH"] = str(ROOT)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refuses_to_bind_beyond_loopback_without_a_token(tmp_path):
    for host in ("0.0.0.0", "192.0.2.1", "example.com"):
        r = subprocess.run(
            [sys.executable, "-m", "finstream", "serve", "--host", host, "--port", "0"],
            cwd=tmp_path,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2, r.stderr
        assert "FINSTREAM_API_TOKEN" in r.stderr and host in r.stderr


def test_served_app_answers_and_never_logs_the_token(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "finstream", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=_env(tmp_path, FINSTREAM_API_TOKEN=SECRET),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {SECRET}"}
        with httpx.Client(base_url=base, timeout=60) as client:
            assert client.post("/api/conversation", json={}).status_code == 401
            cid = client.post("/api/conversation", json={}, headers=headers).json()[
                "conversation_id"
            ]
            r = client.post(
                f"/api/conversation/{cid}/message?wait=false",
                json={"message": "Summarise"},
                headers=headers,
            )
            mid = r.json()["message_id"]
            # As EventSource does: the token in the query string.
            with connect_sse(
                client,
                "GET",
                f"/api/conversation/{cid}/message/stream?message_id={mid}&token={SECRET}",
            ) as source:
                events = [ev.parse_event(s.data) for s in source.iter_sse()]
        assert events[0].type == "message_start" and events[-1].type == "message_complete"
        assert all(SECRET not in e.model_dump_json() for e in events)
        # A browser's WebSocket carries the token in the URL too; uvicorn logs that line.
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{port}/ws/conversation/{cid}?token={SECRET}") as sock:
            sock.send('{"type": "stop"}')
            assert ev.parse_event(sock.recv()).type == "status"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "message/stream" in out and "WebSocket /ws/conversation/" in out  # both were logged
    assert SECRET not in out
    assert "?[query omitted]" in out  # no query string of an authenticated path is logged
