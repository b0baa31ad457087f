"""The load generator of bench_capacity.py: N concurrent streams against one server, each asks
once and reads the whole answer through the server's own client protocol (finstream: SSE over
HTTP/1.1; Chainlit: socket.io over a WebSocket, as its web client does). Prints one JSON line:
delays, errors.

    python capacity_load.py finstream|chainlit URL N [ROUNDS [burst|staggered]]

Both clients are lean: one connection per stream, the protocol's framing parsed by hand (HTTP
chunks and SSE frames over asyncio streams; engine.io/socket.io packets over the ``websockets``
client, whose frame handling is in C), one ``json.loads`` per event, on uvloop when it is
installed. Neither asks for compression. A browser does this work in native code;
general-purpose Python clients (httpx, python-socketio) cost as much CPU per event as the servers
measured, so on a shared machine the generator, not the server, would set the limit.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capacity_replay import GAP, TOKENS, delays  # noqa: E402

TIMEOUT = TOKENS * GAP * 10 + 30


class ProtocolError(Exception):
    pass


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _chunks(reader: asyncio.StreamReader, headers: dict[str, str]):  # noqa: ANN202
    """The body's pieces as they arrive (chunked transfer encoding, or a Content-Length body)."""
    if headers.get("transfer-encoding", "").lower() != "chunked":
        yield await reader.readexactly(int(headers.get("content-length", "0")))
        return
    while True:
        size = int((await reader.readline()).split(b";", 1)[0], 16)
        if size == 0:
            await reader.readline()
            return
        data = await reader.readexactly(size + 2)
        yield data[:-2]


def _request(method: str, path: str, host: str, body: bytes) -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nAccept: */*\r\n\r\n").encode() + body


async def finstream_stream(url: str, out: list[float]) -> int:
    parts = urlsplit(url)
    host = parts.netloc
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    got = 0
    try:
        writer.write(_request("POST", "/api/conversation", host, b"{}"))
        status, headers = await _head(reader)
        body = b"".join([c async for c in _chunks(reader, headers)])
        if status != 201:
            raise ProtocolError(f"POST /api/conversation: {status} {body[:200]!r}")
        cid = json.loads(body)["conversation_id"]
        writer.write(_request("POST", f"/api/conversation/{cid}/message/stream?accumulated=false", host,
                              b'{"message": "q"}'))
        status, headers = await _head(reader)
        if status != 200:
            raise ProtocolError(f"POST .../message/stream: {status}")
        buffer = b""
        async for chunk in _chunks(reader, headers):
            now = time.time()
            buffer += chunk
            *frames, buffer = buffer.split(b"\n\n")  # sse-starlette separates frames by a blank line
            for frame in frames:
                for line in frame.split(b"\n"):
                    if line.startswith(b"data: "):
                        event = json.loads(line[6:])
                        if event["type"] == "text_delta":
                            d = delays(event["text"], now)
                            out.extend(d)
                            got += len(d)
                        elif event["type"] == "message_complete":
                            return got
        return got
    finally:
        writer.close()


# ------------------------------------------------------------------ WebSocket + socket.io


async def chainlit_stream(url: str, out: list[float]) -> int:
    from websockets.asyncio.client import connect

    parts = urlsplit(url)
    # No permessage-deflate asked for (a browser would, and Chainlit compresses every message by
    # default): Chainlit is measured without that cost, the conservative side.
    ws = await connect(f"ws://{parts.netloc}/ws/socket.io/?EIO=4&transport=websocket", compression=None)
    got = 0
    auth = {"clientType": "webapp", "sessionId": str(uuid.uuid4()), "threadId": None,
            "userEnv": "{}", "chatProfile": None}

    def take(text: str, now: float) -> None:
        nonlocal got
        d = delays(text, now)
        out.extend(d)
        got += len(d)

    try:
        async for packet in ws:
            if not isinstance(packet, str):
                continue
            now = time.time()
            if packet.startswith("0"):  # engine.io open: connect to the default namespace
                await ws.send("40" + json.dumps(auth))
            elif packet == "2":  # engine.io ping
                await ws.send("3")
            elif packet.startswith("40"):  # socket.io connected: ask, as the web client does
                await ws.send("42" + json.dumps(["connection_successful"]))
                sent = datetime.now(UTC).isoformat()
                await ws.send("42" + json.dumps(["client_message", {"message": {
                    "id": str(uuid.uuid4()), "threadId": "", "output": "q", "name": "User",
                    "type": "user_message", "createdAt": sent, "metadata": {}}, "fileReferences": []}]))
            elif packet.startswith("44"):
                raise ProtocolError(f"socket.io refused the connection: {packet[:200]}")
            elif packet.startswith("42"):
                name, *args = json.loads(packet[2:])
                if name == "stream_start":
                    take(args[0].get("output") or "", now)
                elif name == "stream_token":
                    take(args[0].get("token") or "", now)
                if got >= TOKENS:
                    return got
        return got
    finally:
        await ws.close()


async def main_async(kind: str, url: str, n: int, rounds: int = 1, burst: bool = True) -> dict:
    """``n`` clients, each asking ``rounds`` times in a row. ``burst``: all start at once (N
    simultaneous stream set-ups); else client i starts i/n of a stream's length later, so from
    the end of the first round on, ``n`` streams are always open, at all stages of an answer."""
    out: list[float] = []
    stream = finstream_stream if kind == "finstream" else chainlit_stream

    async def client(i: int) -> list[int | BaseException]:
        if not burst:
            await asyncio.sleep(i / n * TOKENS * GAP)
        got: list[int | BaseException] = []
        for _ in range(rounds):
            try:
                got.append(await asyncio.wait_for(stream(url, out), TIMEOUT))
            except Exception as exc:  # counted, and the client goes on (as a user asks again)
                got.append(exc)
        return got

    results = [r for rs in await asyncio.gather(*(client(i) for i in range(n))) for r in rs]
    complete = sum(1 for r in results if isinstance(r, int) and r >= TOKENS)
    errors = [f"{type(r).__name__}: {r}"[:200] for r in results if isinstance(r, BaseException)]
    return {"streams": len(results), "complete": complete, "errors": errors[:3], "error_count": len(errors),
            "delays": out}


def main() -> None:
    kind, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    burst = (sys.argv[5] if len(sys.argv) > 5 else "burst") == "burst"
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    result = run(main_async(kind, url, n, rounds, burst))
    # Written by hand: the event loop can leave stdout non-blocking, and print() into a full pipe
    # then drops the rest of the line without an error.
    data = memoryview((json.dumps(result) + "\n").encode())
    while data:
        try:
            data = data[os.write(sys.stdout.fileno(), data):]
        except BlockingIOError:
            select.select([], [sys.stdout.fileno()], [])


if __name__ == "__main__":
    main()
