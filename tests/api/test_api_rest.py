"""Plain endpoints and bad input: clear JSON errors, nothing lost, the server keeps serving."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from finstream import events as ev
from tests.api.api_support import TOKEN
from tests.api.test_api_sse import new_conversation
from tests.support.filings import FILINGS_DIR as FILINGS


async def test_non_streaming_message_returns_text_artifacts_usage(client):
    cid = await new_conversation(client)
    r = await client.post(f"/api/conversation/{cid}/message", json={"message": "Revenue?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["conversation_id"] == cid and body["message_id"]
    assert body["status"] == "complete" and body["stop_reason"] == "end_turn"
    assert body["text"].endswith("Revenue rose to $391.0 billion in FY2024.")
    assert [a["kind"] for a in body["artifacts"]] == ["chart", "table", "metric"]
    assert body["usage"]["output_tokens"] > 0


async def test_history_lists_messages_with_status_text_and_artifacts(client):
    cid = await new_conversation(client)
    answer = (
        await client.post(f"/api/conversation/{cid}/message", json={"message": "Revenue?"})
    ).json()
    h = (await client.get(f"/api/conversation/{cid}")).json()
    assert h["conversation_id"] == cid and h["active_message_id"] is None
    roles = [(m["role"], m["status"]) for m in h["messages"]]
    assert roles == [("user", "complete"), ("assistant", "complete")]
    assert h["messages"][0]["text"] == "Revenue?"
    assert h["messages"][1]["text"] == answer["text"]
    assert [a["kind"] for a in h["messages"][1]["artifacts"]] == ["chart", "table", "metric"]
    assert len(h["artifacts"]) == 3 and h["documents"] == []


async def test_stop_endpoint_and_schema_and_health(client):
    cid = await new_conversation(client)
    r = await client.post(f"/api/conversation/{cid}/stop")
    assert r.json() == {"conversation_id": cid, "stopped": False}
    schema = (await client.get("/api/protocol/schema")).json()
    names = set(schema["discriminator"]["mapping"]) if "discriminator" in schema else set()
    assert {"message_start", "text_delta", "chart_ready", "message_complete", "error"} <= names
    assert schema == ev.json_schema()
    async with httpx.AsyncClient(base_url=str(client.base_url)) as anon:
        assert (await anon.get("/healthz")).json() == {"status": "ok"}


async def test_stop_ends_a_running_answer_as_stopped(live, client):
    live.provider.delay, old = 0.05, live.provider.delay
    try:
        cid = await new_conversation(client)
        started = (
            await client.post(f"/api/conversation/{cid}/message?wait=false", json={"message": "q"})
        ).json()
        r = await client.post(f"/api/conversation/{cid}/stop")
        assert r.json()["stopped"] is True
        h = (await client.get(f"/api/conversation/{cid}")).json()
        assert h["messages"][-1]["message_id"] == started["message_id"]
        assert h["messages"][-1]["status"] == "stopped"
    finally:
        live.provider.delay = old


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
)
async def test_wrong_or_missing_token_is_401_everywhere(live, headers):
    async with httpx.AsyncClient(base_url=live.url, headers=headers) as anon:
        for method, path in [
            ("POST", "/api/conversation"),
            ("GET", "/api/conversation/x"),
            ("GET", "/api/protocol/schema"),
            ("POST", "/api/conversation/x/message"),
            ("GET", "/api/conversation/x/message/stream"),
        ]:
            r = await anon.request(
                method, path, json={"message": "q"} if method == "POST" else None
            )
            assert r.status_code == 401, (method, path)
            assert r.json()["error"]["code"] == "unauthorized"
            assert TOKEN not in r.text
        # The query token is only for EventSource/WebSocket, not for other endpoints.
        r = await anon.post(f"/api/conversation?token={TOKEN}", json={})
        assert r.status_code == 401
        # The page itself is public (it holds no data; the token is typed into it).
        assert (await anon.get("/")).status_code == 200


async def test_invalid_json_unknown_conversation_and_bad_fields(client):
    cid = await new_conversation(client)
    r = await client.post(
        f"/api/conversation/{cid}/message",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = await client.post(f"/api/conversation/{cid}/message", json={"msg": "q"})
    assert r.status_code == 422 and "message" in r.json()["error"]["message"]
    r = await client.post(f"/api/conversation/{cid}/message", json={"message": "   "})
    assert r.status_code == 422 and "empty" in r.json()["error"]["message"]
    r = await client.post("/api/conversation/nope/message", json={"message": "q"})
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"]
    r = await client.get("/api/conversation/nope")
    assert r.status_code == 404 and r.json() == {
        "error": {"code": "not_found", "message": "conversation nope: not found"}
    }
    r = await client.post("/api/conversation/nope/stop")
    assert r.status_code == 404
    r = await client.post(
        "/api/conversation", content=b"[1,", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    r = await client.get("/api/nothing-here")
    assert r.status_code == 404 and "error" in r.json()


async def test_oversized_bodies_are_413_and_nothing_is_lost(client, live):
    cid = await new_conversation(client)
    big = "x" * (live.api.max_json_bytes + 10)
    r = await client.post(f"/api/conversation/{cid}/message", json={"message": big})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    # No Content-Length (chunked): the body is counted as it arrives. A raw socket, because
    # httpx stops reading when the server answers before the upload is over.
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    writer.write(
        f"POST /api/conversation/{cid}/message HTTP/1.1\r\nHost: t\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n".encode()
    )
    for _ in range(100):
        writer.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
    writer.write(b"0\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    writer.close()
    assert head.startswith(b"HTTP/1.1 413")
    files = {"files": ("huge.csv", b"a,b\n" * (live.api.max_upload_bytes // 4 + 10), "text/csv")}
    r = await client.post(f"/api/conversation/{cid}/documents", files=files)
    assert r.status_code == 413 and "huge.csv" in r.json()["error"]["message"]
    r = await client.post(
        f"/api/conversation/{cid}/documents",
        files={"files": ("x.bin", b"y" * (live.api.max_request_bytes + 1))},
    )
    assert r.status_code == 413
    # Well past the limit: the server reads and drops the rest first, so the client sees the 413.
    r = await client.post(f"/api/conversation/{cid}/documents",
                          files={"files": ("big.bin", b"y" * (3 * live.api.max_request_bytes))})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    h = (await client.get(f"/api/conversation/{cid}")).json()
    assert h["messages"] == [] and h["documents"] == []


async def test_upload_needs_multipart_and_a_file(client):
    cid = await new_conversation(client)
    r = await client.post(f"/api/conversation/{cid}/documents", json={"files": []})
    assert r.status_code == 415
    r = await client.post(f"/api/conversation/{cid}/documents", data={"note": "x"}, files={})
    assert r.status_code in (415, 422)


async def test_upload_good_and_bad_files(client):
    cid = await new_conversation(client)
    csv = (FILINGS / "apple_consolidated.csv").read_bytes()
    r = await client.post(
        f"/api/conversation/{cid}/documents",
        files=[("files", ("apple_consolidated.csv", csv, "text/csv"))],
    )
    assert r.status_code == 201, r.text
    assert r.json()["documents"][0]["filename"] == "apple_consolidated.csv"
    r = await client.post(
        f"/api/conversation/{cid}/documents",
        files=[
            ("files", ("broken.pdf", b"%PDF-1.7 garbage", "application/pdf")),
            ("files", ("empty.csv", b"", "text/csv")),
        ],
    )
    assert r.status_code == 422
    err = r.json()
    assert err["error"]["code"] == "bad_document"
    assert "broken.pdf" in err["error"]["message"] and "empty.csv" in err["error"]["message"]
    assert {x["filename"] for x in err["rejected"]} == {"broken.pdf", "empty.csv"}
    docs = (await client.get(f"/api/conversation/{cid}")).json()["documents"]
    ok = [d for d in docs if d["error"] is None]
    assert [d["filename"] for d in ok] == ["apple_consolidated.csv"]  # untouched


async def test_create_conversation_with_files(client):
    csv = (FILINGS / "apple_consolidated.csv").read_bytes()
    r = await client.post(
        "/api/conversation",
        data={"title": "Apple"},
        files=[("files", ("apple_consolidated.csv", csv, "text/csv"))],
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["title"] == "Apple" and body["documents"][0]["filename"] == "apple_consolidated.csv"


async def test_a_flood_of_connections_is_bounded_and_the_server_keeps_serving(live, client):
    """200 concurrent requests of every kind, many of them streams held open at once."""
    cid = await new_conversation(client)
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=0)
    old = live.app.state.stream_slots.limit
    live.app.state.stream_slots.limit = 50
    try:
        async with httpx.AsyncClient(
            base_url=live.url,
            limits=limits,
            timeout=60,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as flood:
            await flood.post(f"/api/conversation/{cid}/message?wait=false", json={"message": "q"})

            async def one(i: int) -> int:
                if i % 4 == 0:
                    r = await flood.get("/api/conversation/nope")
                elif i % 4 == 1:
                    r = await flood.post(
                        "/api/conversation/x/message",
                        content=b"{",
                        headers={"Content-Type": "application/json"},
                    )
                else:
                    async with flood.stream(
                        "GET", f"/api/conversation/{cid}/message/stream?after=0"
                    ) as r:
                        await r.aread()
                return r.status_code

            codes = await asyncio.gather(*(one(i) for i in range(200)))
        assert set(codes) <= {200, 204, 400, 404, 503}
        assert codes.count(404) == 50 and codes.count(400) == 50
    finally:
        live.app.state.stream_slots.limit = old
    assert live.app.state.stream_slots.active == 0
    r = await client.post(f"/api/conversation/{cid}/message", json={"message": "after the flood"})
    assert r.status_code == 200 and r.json()["status"] == "complete"
