"""The load generator of bench_capacity.py: N concurrent streams against one server, each asks
once and reads the whole answer through the server's own client protocol (finstream: SSE over
HTTP; Chainlit: socket.io, as its web client does). Prints one JSON line: delays, errors.

    python capacity_load.py finstream|chainlit URL N
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capacity_replay import TOKENS, delays  # noqa: E402


async def finstream_stream(url: str, out: list[float], http) -> int:  # noqa: ANN001
    r = await http.post(f"{url}/api/conversation", json={})
    cid = r.json()["conversation_id"]
    got = 0
    async with http.stream("POST", f"{url}/api/conversation/{cid}/message/stream?accumulated=false",
                           json={"message": "q"}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event["type"] == "text_delta":
                    d = delays(event["text"], time.time())
                    out.extend(d)
                    got += len(d)
                elif event["type"] == "message_complete":
                    break
    return got


async def chainlit_stream(url: str, out: list[float]) -> int:
    import socketio

    sio = socketio.AsyncClient(reconnection=False)
    done = asyncio.Event()
    got = 0

    def take(text: str) -> None:
        nonlocal got
        d = delays(text, time.time())
        out.extend(d)
        got += len(d)
        if got >= TOKENS:
            done.set()

    @sio.on("stream_start")
    async def _start(step: dict) -> None:
        take(step.get("output") or "")

    @sio.on("stream_token")
    async def _token(data: dict) -> None:
        take(data.get("token") or "")

    auth = {"clientType": "webapp", "sessionId": str(uuid.uuid4()), "threadId": None,
            "userEnv": "{}", "chatProfile": None}
    await sio.connect(url, socketio_path="/ws/socket.io", auth=auth, transports=["websocket"])
    await sio.emit("connection_successful")
    now = datetime.now(UTC).isoformat()
    await sio.emit("client_message", {"message": {
        "id": str(uuid.uuid4()), "threadId": "", "output": "q", "name": "User", "type": "user_message",
        "createdAt": now, "metadata": {}}, "fileReferences": []})
    try:
        await asyncio.wait_for(done.wait(), TOKENS * 0.04 * 10 + 30)
    finally:
        await sio.disconnect()
    return got


async def main_async(kind: str, url: str, n: int) -> dict:
    out: list[float] = []
    errors = 0
    if kind == "finstream":
        import httpx

        limits = httpx.Limits(max_connections=n * 2 + 10, max_keepalive_connections=n * 2 + 10)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            results = await asyncio.gather(*(finstream_stream(url, out, http) for _ in range(n)),
                                           return_exceptions=True)
    else:
        results = await asyncio.gather(*(chainlit_stream(url, out) for _ in range(n)),
                                       return_exceptions=True)
    complete = sum(1 for r in results if isinstance(r, int) and r >= TOKENS)
    errors = [f"{type(r).__name__}: {r}"[:200] for r in results if isinstance(r, BaseException)]
    return {"streams": n, "complete": complete, "errors": errors[:3], "error_count": len(errors),
            "delays": out}


def main() -> None:
    kind, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(asyncio.run(main_async(kind, url, n))))


if __name__ == "__main__":
    main()
