"""Feedback on an answer through the HTTP API (real uvicorn on loopback): set, read, change,
clear, shown in the conversation's history, and refused for what is not an answer."""

from __future__ import annotations

from tests.api.test_api_sse import new_conversation


async def answered(client):  # noqa: ANN001, ANN201
    cid = await new_conversation(client)
    answer = (await client.post(f"/api/conversation/{cid}/message", json={"message": "Revenue?"})).json()
    return cid, answer["message_id"]


async def test_feedback_is_stored_shown_in_history_and_cleared(client):
    cid, mid = await answered(client)
    url = f"/api/conversation/{cid}/message/{mid}/feedback"
    assert (await client.get(url)).json() == {"rating": None, "comment": ""}
    r = await client.put(url, json={"rating": "down", "comment": "FY2023 is missing"})
    assert r.status_code == 200, r.text
    assert r.json()["rating"] == "down" and r.json()["comment"] == "FY2023 is missing"
    r = await client.put(url, json={"rating": "up"})
    assert (await client.get(url)).json()["rating"] == "up"
    history = (await client.get(f"/api/conversation/{cid}")).json()
    answer = next(m for m in history["messages"] if m["message_id"] == mid)
    assert answer["feedback"] == {"rating": "up", "comment": ""}
    assert (await client.put(url, json={"rating": None})).json()["rating"] is None
    history = (await client.get(f"/api/conversation/{cid}")).json()
    assert "feedback" not in next(m for m in history["messages"] if m["message_id"] == mid)


async def test_feedback_refuses_questions_unknown_messages_and_bad_ratings(client):
    cid, mid = await answered(client)
    history = (await client.get(f"/api/conversation/{cid}")).json()
    question = next(m for m in history["messages"] if m["role"] == "user")["message_id"]
    r = await client.put(f"/api/conversation/{cid}/message/{question}/feedback", json={"rating": "up"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.put(f"/api/conversation/{cid}/message/nope/feedback", json={"rating": "up"})
    assert r.status_code == 404
    other = await new_conversation(client)
    r = await client.put(f"/api/conversation/{other}/message/{mid}/feedback", json={"rating": "up"})
    assert r.status_code == 404  # an answer of another conversation
    r = await client.put(f"/api/conversation/{cid}/message/{mid}/feedback", json={"rating": "meh"})
    assert r.status_code in (400, 422)
