"""SSE through httpx + httpx-sse against a real uvicorn: whole event sequences, resume, 204s."""

from __future__ import annotations

import asyncio
import json

import httpx
from httpx_sse import aconnect_sse

from finstream import events as ev

EXPECTED_TYPES = (
    ["message_start"]
    + ["text_delta"] * 12
    + [
        "tool_start",
        "tool_complete",
        "chart_ready",
        "tool_start",
        "tool_complete",
        "table_ready",
        "tool_start",
        "tool_complete",
        "metric_ready",
    ]
    + ["text_delta"] * 7
    + ["message_complete"]
)


async def new_conversation(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/conversation", json={})
    assert r.status_code == 201, r.text
    return r.json()["conversation_id"]


async def read_sse(client, method, url, *, limit=None, **kw) -> tuple[list, list]:
    """(parsed events, raw ServerSentEvents); stops after ``limit`` events (a cut)."""
    events, raws = [], []
    async with aconnect_sse(client, method, url, **kw) as source:
        assert source.response.status_code == 200, await source.response.aread()
        async for sse in source.aiter_sse():
            raws.append(sse)
            events.append(ev.parse_event(sse.data))
            if limit is not None and len(events) >= limit:
                break
    return events, raws


def check_protocol(events: list, conversation_id: str) -> None:
    assert [e.type for e in events] == EXPECTED_TYPES
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs)) and seqs[0] > 0
    message_id = events[0].message_id
    assert all(e.message_id == message_id for e in events)
    assert events[0].conversation_id == conversation_id
    text = ""
    for e in events:
        if e.type == "text_delta":
            text += e.text
            assert e.accumulated_text == text
    assert text.startswith("word0 word1") and text.endswith("in FY2024.")
    assert events[-1].success and events[-1].stop_reason == "end_turn"
    assert events[15].chart_data["figure"]["data"]


async def test_post_stream_sends_the_whole_protocol_with_id_and_retry(client):
    cid = await new_conversation(client)
    events, raws = await read_sse(
        client,
        "POST",
        f"/api/conversation/{cid}/message/stream",
        json={"message": "How did revenue change?"},
    )
    check_protocol(events, cid)
    assert [int(r.id) for r in raws] == [e.seq for e in events]
    assert all(r.retry == 1500 for r in raws)
    assert [r.event for r in raws] == [e.type for e in events]


async def test_get_replays_a_finished_message_then_204_after_its_last_event(client):
    cid = await new_conversation(client)
    live, _ = await read_sse(
        client, "POST", f"/api/conversation/{cid}/message/stream", json={"message": "q"}
    )
    mid = live[0].message_id
    url = f"/api/conversation/{cid}/message/stream?message_id={mid}"
    replay, _ = await read_sse(client, "GET", url)
    assert replay == live
    done = await client.get(url, headers={"Last-Event-ID": str(live[-1].seq)})
    assert done.status_code == 204  # EventSource stops reconnecting
    nothing = await client.get(f"/api/conversation/{cid}/message/stream")
    assert nothing.status_code == 204  # no active run and no cursor


async def test_resume_after_last_event_id_and_after_param(client):
    cid = await new_conversation(client)
    live, _ = await read_sse(
        client, "POST", f"/api/conversation/{cid}/message/stream", json={"message": "q"}
    )
    mid = live[0].message_id
    base = f"/api/conversation/{cid}/message/stream?message_id={mid}"
    rest, _ = await read_sse(client, "GET", base, headers={"Last-Event-ID": str(live[9].seq)})
    assert rest == live[10:]
    rest2, _ = await read_sse(client, "GET", base + f"&after={live[20].seq}")
    assert rest2 == live[21:]
    # The header wins over ?after= (a browser's reconnect carries the newer cursor).
    rest3, _ = await read_sse(
        client, "GET", base + "&after=0", headers={"Last-Event-ID": str(live[25].seq)}
    )
    assert rest3 == live[26:]


async def test_second_message_stream_holds_only_its_own_events(client):
    cid = await new_conversation(client)
    first, _ = await read_sse(
        client, "POST", f"/api/conversation/{cid}/message/stream", json={"message": "a"}
    )
    second, _ = await read_sse(
        client, "POST", f"/api/conversation/{cid}/message/stream", json={"message": "b"}
    )
    assert second[0].seq == first[-1].seq + 1
    assert len(second) == len(first) and second[0].message_id != first[0].message_id
    # A resume cursor from the first answer continues across into the second: no gap.
    joined, _ = await read_sse(
        client,
        "GET",
        f"/api/conversation/{cid}/message/stream",
        headers={"Last-Event-ID": str(first[-3].seq)},
    )
    assert joined == first[-2:] + second


async def test_accumulated_false_drops_accumulated_text(client):
    cid = await new_conversation(client)
    _, raws = await read_sse(
        client,
        "POST",
        f"/api/conversation/{cid}/message/stream?accumulated=false",
        json={"message": "q"},
    )
    deltas = [json.loads(r.data) for r in raws if r.event == "text_delta"]
    assert deltas and all("accumulated_text" not in d for d in deltas)


async def test_get_follows_the_active_run_and_a_disconnect_never_stops_it(client, live):
    cid = await new_conversation(client)
    r = await client.post(f"/api/conversation/{cid}/message?wait=false", json={"message": "q"})
    assert r.status_code == 202
    mid = r.json()["message_id"]
    # Attach without a cursor: the whole active answer from its first event; then leave early.
    part, _ = await read_sse(client, "GET", f"/api/conversation/{cid}/message/stream", limit=3)
    assert part[0].type == "message_start" and part[0].message_id == mid
    result = await live.manager.store.get_message(mid)
    while result.status == "streaming":
        await asyncio.sleep(0.02)
        result = await live.manager.store.get_message(mid)
    assert result.status == "complete"
    full, _ = await read_sse(
        client, "GET", f"/api/conversation/{cid}/message/stream?message_id={mid}"
    )
    assert full[:3] == part and full[-1].type == "message_complete"


async def test_post_stream_on_busy_conversation_is_409(client):
    cid = await new_conversation(client)
    r = await client.post(f"/api/conversation/{cid}/message?wait=false", json={"message": "q"})
    mid = r.json()["message_id"]
    busy = await client.post(f"/api/conversation/{cid}/message/stream", json={"message": "again"})
    if busy.status_code == 409:  # the run may already have ended on a fast machine
        assert busy.json()["error"]["code"] == "busy"
        assert busy.json()["message_id"] == mid
    else:
        assert busy.status_code == 200


async def test_bad_cursor_and_unknown_message_are_clear_errors(client):
    cid = await new_conversation(client)
    r = await client.get(
        f"/api/conversation/{cid}/message/stream", headers={"Last-Event-ID": "abc"}
    )
    assert r.status_code == 400 and "Last-Event-ID" in r.json()["error"]["message"]
    r = await client.get(f"/api/conversation/{cid}/message/stream?message_id=nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.get("/api/conversation/missing/message/stream")
    assert r.status_code == 404
    r = await client.get(f"/api/conversation/{cid}/message/stream?after=-1")
    assert r.status_code == 422
