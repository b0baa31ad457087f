"""The API's front door against a real uvicorn on loopback: body limits whatever the Content-Type,
Host and Origin checks (DNS rebinding, cross-site WebSockets), the token only where EventSource
needs it, a 503 that starts nothing, a deeply nested WebSocket frame, and the log and start-up
rules for tokens."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time

import httpx
import pytest
from httpx_sse import connect_sse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from finstream.api.config import ApiSettings
from tests.api.api_support import TOKEN, ChartAnalyst, LiveServer, auth
from tests.security.served import ROOT, Served, clean_env, free_port


def _raw(port: int, head: str, body: bytes = b"", *, read: int = 65536) -> bytes:
    """Send a request by hand (headers that no client library would send) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        s.settimeout(30)
        chunks = b""
        try:
            while b"\r\n\r\n" not in chunks or len(chunks) < 20:
                data = s.recv(read)
                if not data:
                    break
                chunks += data
        except (ConnectionResetError, TimeoutError):
            pass
        return chunks


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    api = ApiSettings(token=TOKEN, max_json_bytes=64 * 1024, max_upload_bytes=256 * 1024,
                      max_request_bytes=1024 * 1024, cors_origins=["https://app.example"], max_streams=3)
    with LiveServer(tmp_path_factory.mktemp("guards") / "api.db", api=api,
                    provider=ChartAnalyst(words=12, delay=0.005)) as server:
        yield server


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    api = ApiSettings(token=None, max_json_bytes=64 * 1024)
    with LiveServer(tmp_path_factory.mktemp("guards-open") / "api.db", api=api) as server:
        yield server


def _conversation(server: LiveServer, headers: dict | None = None) -> str:
    r = httpx.post(f"{server.url}/api/conversation", json={}, headers=headers or auth())
    assert r.status_code == 201, r.text
    return r.json()["conversation_id"]


def test_an_oversized_json_body_is_refused_before_it_is_read_whatever_its_content_type(token_server):
    cid = _conversation(token_server)
    declared = 150 * 2**20
    head = (f"POST /api/conversation/{cid}/message HTTP/1.1\r\nHost: 127.0.0.1:{token_server.port}\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {declared}\r\n")
    answer = _raw(token_server.port, head, b"--x\r\n")  # 5 bytes of a declared 150 MB
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"the limit is 65536" in answer


def test_a_streamed_body_without_length_is_cut_at_the_json_limit(token_server):
    cid = _conversation(token_server)
    sent = 0

    def body():
        nonlocal sent
        for _ in range(2000):  # up to 64 MB; the server answers long before
            sent += 32 * 1024
            yield b"x" * (32 * 1024)

    with httpx.Client(timeout=30) as client:
        try:
            r = client.post(f"{token_server.url}/api/conversation/{cid}/message", content=body(),
                            headers={**auth(), "Content-Type": "multipart/form-data; boundary=x"})
            status = r.status_code
        except httpx.HTTPError:
            status = 413  # the server closed the connection after answering
    assert status == 413
    assert sent < 40 * 2**20  # the server stopped reading near its limit, not at 64 MB


def test_without_a_token_only_loopback_names_are_answered(open_server):
    port = open_server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "app.localhost"):
        assert _raw(port, f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n").startswith(b"HTTP/1.1 200"), host
    # DNS rebinding: the attacker's name now points at 127.0.0.1, the browser sends its Host.
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io"):
        answer = _raw(port, f"GET /api/protocol/schema HTTP/1.1\r\nHost: {host}\r\n")
        assert answer.startswith(b"HTTP/1.1 403"), (host, answer[:120])
        assert b"loopback" in answer


def test_cross_site_origins_are_refused_for_http_and_websocket(open_server, token_server):
    # No-token mode: a loopback page may call, another site may not.
    cid = _conversation(open_server, headers={})
    ok = httpx.get(f"{open_server.url}/api/conversation/{cid}", headers={"Origin": "http://localhost:3000"})
    assert ok.status_code == 200
    bad = httpx.get(f"{open_server.url}/api/conversation/{cid}", headers={"Origin": "https://evil.example"})
    assert bad.status_code == 403 and "Origin" in bad.json()["error"]["message"]
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{open_server.ws_url}/ws/conversation/{cid}", origin="https://evil.example")
    assert refused.value.response.status_code == 403
    with connect(f"{open_server.ws_url}/ws/conversation/{cid}", origin=open_server.url) as sock:
        sock.send('{"type": "stop"}')
        assert json.loads(sock.recv())["type"] == "status"

    # Token mode: the configured origin and the API's own; nothing else, even with the token.
    cid = _conversation(token_server)
    url = f"{token_server.url}/api/conversation/{cid}"
    assert httpx.get(url, headers={**auth(), "Origin": "https://app.example"}).status_code == 200
    assert httpx.get(url, headers={**auth(), "Origin": token_server.url}).status_code == 200
    assert httpx.get(url, headers=auth()).status_code == 200  # no Origin: not a browser
    assert httpx.get(url, headers={**auth(), "Origin": "https://evil.example"}).status_code == 403
    assert httpx.get(url, headers={**auth(), "Origin": "null"}).status_code == 403
    with pytest.raises(InvalidStatus):
        connect(f"{token_server.ws_url}/ws/conversation/{cid}?token={TOKEN}", origin="http://localhost:1")


def test_the_query_token_is_accepted_only_on_the_stream_get(token_server):
    cid = _conversation(token_server)
    url = f"{token_server.url}/api/conversation/{cid}/message/stream?token={TOKEN}"
    posted = httpx.post(url, json={"message": "Revenue?"})
    assert posted.status_code == 401  # POST: only the Authorization header
    history = httpx.get(f"{token_server.url}/api/conversation/{cid}", headers=auth()).json()
    assert history["messages"] == []  # and nothing was started
    assert httpx.get(url).status_code == 204  # GET (EventSource) with it: allowed, nothing to stream


def test_at_the_stream_limit_a_503_starts_no_run(tmp_path):
    api = ApiSettings(token=TOKEN, max_streams=3)
    with LiveServer(tmp_path / "api.db", api=api, provider=ChartAnalyst(words=300, delay=0.02)) as server:
        _fill_the_stream_limit(server)


def _fill_the_stream_limit(token_server: LiveServer) -> None:
    cids = [_conversation(token_server) for _ in range(4)]
    with httpx.Client(base_url=token_server.url, headers=auth(), timeout=60) as client:
        with contextlib.ExitStack() as open_streams:
            for cid in cids[:3]:  # fill the 3 slots with open streams
                open_streams.enter_context(connect_sse(
                    client, "POST", f"/api/conversation/{cid}/message/stream", json={"message": "Long?"}))
            assert token_server.app.state.stream_slots.active == 3
            r = client.post(f"/api/conversation/{cids[3]}/message/stream", json={"message": "One more?"})
            assert r.status_code == 503 and r.json()["error"]["code"] == "too_many_streams"
            assert client.get(f"/api/conversation/{cids[3]}").json()["messages"] == []
        # The slots come back once those clients are gone.
        for _ in range(100):
            if token_server.app.state.stream_slots.active == 0:
                break
            time.sleep(0.05)
        with connect_sse(client, "POST", f"/api/conversation/{cids[3]}/message/stream",
                         json={"message": "Now?"}) as source:
            assert [s.json() for s in source.iter_sse()][-1]["success"] is True


def test_a_deeply_nested_websocket_frame_is_a_bad_request_and_the_socket_stays_open(token_server):
    cid = _conversation(token_server)
    with connect(f"{token_server.ws_url}/ws/conversation/{cid}?token={TOKEN}") as sock:
        sock.send("[" * 30_000 + "]" * 30_000)  # 60 KB: under the frame limit
        notice = json.loads(sock.recv())
        assert notice["type"] == "error" and notice["code"] == "bad_request"
        assert "nested too deeply" in notice["message"]
        sock.send('{"type": "user_message", "message": "Revenue?"}')
        events = []
        while not events or events[-1]["type"] != "message_complete":
            events.append(json.loads(sock.recv()))
        assert events[-1]["success"] is True


SECRET = "s3cret-token-do-not-log-42"


def test_a_percent_encoded_token_never_reaches_the_log(tmp_path):
    served = Served(tmp_path / "d", FINSTREAM_API_TOKEN=SECRET)
    try:
        encoded = "".join(f"%{b:02X}" for b in SECRET.encode())
        httpx.get(f"{served.url}/api/conversation/x/message/stream?%74oken={encoded}")
        httpx.get(f"{served.url}/api/conversation/x/message/stream?TOKEN={SECRET}&token={SECRET}")
        try:
            connect(f"ws://127.0.0.1:{served.port}/ws/conversation/x?%74oken={encoded}").close()
        except Exception:  # refused or closed: only the log matters here
            pass
    finally:
        log = served.stop()
    assert "/api/conversation/x/message/stream?[query omitted]" in log  # the request was logged
    assert SECRET not in log and encoded not in log and encoded.lower() not in log


@pytest.mark.parametrize("value", ["", "   ", "\t", " padded "])
def test_a_blank_or_padded_token_is_refused_at_start_up(tmp_path, value):
    r = subprocess.run(
        [sys.executable, "-m", "finstream", "serve", "--host", "127.0.0.1", "--port", str(free_port())],
        cwd=ROOT, env=clean_env(tmp_path, FINSTREAM_API_TOKEN=value), capture_output=True, text=True,
        timeout=60,
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "FINSTREAM_API_TOKEN" in r.stderr and "blank" in r.stderr
