"""The WebSocket through the `websockets` client: whole sequences, bad frames, busy, stop, auth."""

from __future__ import annotations

import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from finstream import events as ev
from tests.api.api_support import TOKEN
from tests.api.test_api_sse import EXPECTED_TYPES, check_protocol, new_conversation, read_sse


def ws_url(live, cid: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{live.ws_url}/ws/conversation/{cid}" + (f"?{query}" if query else "")


async def recv_event(sock) -> ev.Event:
    return ev.parse_event(await sock.recv())


async def recv_until_complete(sock, limit: int | None = None) -> list:
    events = []
    while True:
        e = await recv_event(sock)
        events.append(e)
        if e.type == "message_complete" or (limit is not None and len(events) >= limit):
            return events


async def test_user_message_streams_the_whole_protocol_and_matches_sse(live, client):
    cid = await new_conversation(client)
    async with websockets.connect(
        ws_url(live, cid), additional_headers={"Authorization": f"Bearer {TOKEN}"}
    ) as sock:
        await sock.send(json.dumps({"type": "user_message", "message": "How did revenue change?"}))
        events = await recv_until_complete(sock)
        check_protocol(events, cid)
        # The socket stays open for the next question.
        await sock.send(json.dumps({"type": "user_message", "message": "again"}))
        second = await recv_until_complete(sock)
        assert [e.type for e in second] == EXPECTED_TYPES
    replay, _ = await read_sse(
        client, "GET", f"/api/conversation/{cid}/message/stream?message_id={events[0].message_id}"
    )
    assert replay == events


async def test_token_in_query_and_accumulated_false(live, client):
    cid = await new_conversation(client)
    async with websockets.connect(ws_url(live, cid, token=TOKEN, accumulated="false")) as sock:
        await sock.send(json.dumps({"type": "user_message", "message": "q"}))
        raw = []
        while True:
            data = json.loads(await sock.recv())
            raw.append(data)
            if data["type"] == "message_complete":
                break
    deltas = [d for d in raw if d["type"] == "text_delta"]
    assert deltas and all("accumulated_text" not in d for d in deltas)


@pytest.mark.parametrize(
    "frame, fragment",
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", '"type"'),
        (json.dumps({"type": "dance"}), "unknown"),
        (json.dumps({"type": "user_message"}), "must be a string"),
        (json.dumps({"type": "user_message", "message": "  "}), "empty"),
        (json.dumps({"type": "resume", "after": "x"}), "whole number"),
        (json.dumps({"type": "resume", "after": 0, "message_id": "nope"}), "nope"),
    ],
)
async def test_malformed_frames_get_an_error_event_and_the_socket_stays_open(
    live, client, frame, fragment
):
    cid = await new_conversation(client)
    async with websockets.connect(ws_url(live, cid, token=TOKEN)) as sock:
        await sock.send(frame)
        err = await recv_event(sock)
        assert err.type == "error" and err.seq == 0
        assert err.code in ("bad_request", "invalid_request", "not_found")
        assert fragment in err.message
        await sock.send(b"\x00binary")
        err2 = await recv_event(sock)
        assert err2.type == "error" and err2.code == "bad_request"
        await sock.send(json.dumps({"type": "user_message", "message": "still there?"}))
        events = await recv_until_complete(sock)
        assert events[-1].success


async def test_busy_and_stop(live, client):
    cid = await new_conversation(client)
    async with websockets.connect(ws_url(live, cid, token=TOKEN)) as sock:
        await sock.send(json.dumps({"type": "stop"}))
        note = await recv_event(sock)
        assert note.type == "status" and "nothing to stop" in note.message
        await sock.send(json.dumps({"type": "user_message", "message": "q"}))
        first = await recv_event(sock)
        assert first.type == "message_start"
        await sock.send(json.dumps({"type": "user_message", "message": "q2"}))
        await sock.send(json.dumps({"type": "stop"}))
        seen = [first]
        busy = None
        while True:
            e = await recv_event(sock)
            if e.seq == 0:
                busy = e
                continue
            seen.append(e)
            if e.type == "message_complete":
                break
        if seen[-1].stop_reason == "stopped":  # the stop reached the run before it finished
            assert busy is not None and busy.code == "busy"
            assert not seen[-1].success
        r = await client.get(f"/api/conversation/{cid}")
        assert r.json()["messages"][-1]["status"] in ("stopped", "complete")


async def test_wrong_or_missing_token_closes_1008(live, client):
    cid = await new_conversation(client)
    for url, headers in [
        (ws_url(live, cid), {}),
        (ws_url(live, cid, token="wrong"), {}),
        (ws_url(live, cid), {"Authorization": "Bearer wrong"}),
    ]:
        async with websockets.connect(url, additional_headers=headers) as sock:
            with pytest.raises(ConnectionClosed) as info:
                await sock.recv()
        assert info.value.rcvd.code == 1008


async def test_unknown_conversation_gets_error_then_close_4404(live):
    async with websockets.connect(ws_url(live, "missing", token=TOKEN)) as sock:
        err = await recv_event(sock)
        assert err.code == "not_found"
        with pytest.raises(ConnectionClosed) as info:
            await sock.recv()
    assert info.value.rcvd.code == 4404


async def test_client_leaving_never_stops_the_run(live, client):
    cid = await new_conversation(client)
    async with websockets.connect(ws_url(live, cid, token=TOKEN)) as sock:
        await sock.send(json.dumps({"type": "user_message", "message": "q"}))
        start = await recv_event(sock)
    # Following the message to its end (live or from the log) shows it completed.
    events, _ = await read_sse(
        client, "GET", f"/api/conversation/{cid}/message/stream?message_id={start.message_id}"
    )
    assert [e.type for e in events] == EXPECTED_TYPES and events[-1].success
