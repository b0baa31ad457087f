"""Resume is exact: cut the stream at random points, reconnect from the last seq seen, and the
joined sequence equals the uninterrupted one (SSE with Last-Event-ID, and WebSocket resume)."""

from __future__ import annotations

import json

import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finstream import events as ev
from tests.api.api_support import TOKEN
from tests.api.test_api_sse import EXPECTED_TYPES, new_conversation, read_sse

# Each example cuts after reading this many events (1..8 per connection, up to 5 cuts).
CUTS = st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=5)
SETTINGS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


async def _reference(client, cid: str, message_id: str) -> list:
    events, _ = await read_sse(
        client, "GET", f"/api/conversation/{cid}/message/stream?message_id={message_id}"
    )
    return events


@SETTINGS
@given(cuts=CUTS)
async def test_sse_cut_and_resume_with_last_event_id_is_exact(client, cuts):
    cid = await new_conversation(client)
    url = f"/api/conversation/{cid}/message/stream"
    joined: list = []
    # The first connection starts the run (POST); each later one resumes by GET + Last-Event-ID,
    # while the run is still going (the provider sleeps between parts) or after it ended.
    first, _ = await read_sse(client, "POST", url, json={"message": "q"}, limit=cuts[0])
    joined += first
    message_id = first[0].message_id
    for n in [*cuts[1:], None]:
        if joined[-1].type == "message_complete":
            r = await client.get(
                f"{url}?message_id={message_id}", headers={"Last-Event-ID": str(joined[-1].seq)}
            )
            assert r.status_code == 204
            break
        part, _ = await read_sse(
            client,
            "GET",
            f"{url}?message_id={message_id}",
            headers={"Last-Event-ID": str(joined[-1].seq)},
            limit=n,
        )
        joined += part
    assert [e.type for e in joined] == EXPECTED_TYPES
    assert joined == await _reference(client, cid, message_id)


@SETTINGS
@given(cuts=CUTS)
async def test_sse_resume_without_message_id_follows_the_active_run(client, cuts):
    cid = await new_conversation(client)
    url = f"/api/conversation/{cid}/message/stream"
    started = (
        await client.post(f"/api/conversation/{cid}/message?wait=false", json={"message": "q"})
    ).json()
    joined: list = []
    for n in [*cuts, None]:
        headers = {"Last-Event-ID": str(joined[-1].seq)} if joined else {}
        if joined and joined[-1].type == "message_complete":
            assert (await client.get(url, headers=headers)).status_code == 204
            break
        part, _ = await read_sse(client, "GET", url, headers=headers, limit=n)
        joined += part
    assert joined == await _reference(client, cid, started["message_id"])


@SETTINGS
@given(cuts=CUTS)
async def test_websocket_cut_and_resume_is_exact(live, client, cuts):
    cid = await new_conversation(client)
    url = f"{live.ws_url}/ws/conversation/{cid}?token={TOKEN}"
    joined: list = []
    message_id = None
    for i, n in enumerate([*cuts, None]):
        async with websockets.connect(url) as sock:
            if i == 0:
                await sock.send(json.dumps({"type": "user_message", "message": "q"}))
            else:
                await sock.send(
                    json.dumps(
                        {"type": "resume", "after": joined[-1].seq, "message_id": message_id}
                    )
                )
            read = 0
            while n is None or read < n:
                e = ev.parse_event(await sock.recv())
                if e.seq == 0:  # "nothing to stream" notice: the answer was complete already
                    assert e.type == "status"
                    break
                joined.append(e)
                message_id = e.message_id
                read += 1
                if e.type == "message_complete":
                    break
        if joined[-1].type == "message_complete":
            break
    assert [e.type for e in joined] == EXPECTED_TYPES
    assert joined == await _reference(client, cid, message_id)
