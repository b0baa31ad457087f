"""Both surfaces follow the shared rules: the same refusal, in the same words, from the HTTP API
and from the Streamlit page (where the two used to differ, the stricter rule now holds on both)."""

from __future__ import annotations

import httpx
import pytest
from streamlit import config

from finstream.service.questions import MAX_QUESTION_CHARS
from finstream.settings import Settings, get_settings
from finstream.ui.inert import md_escape
from tests.api.api_support import auth

TOO_LONG = "x" * (MAX_QUESTION_CHARS + 1)
TOO_LONG_WORDS = f"message: {MAX_QUESTION_CHARS + 1} characters, the limit is {MAX_QUESTION_CHARS}"


def page_words(at) -> str:  # noqa: ANN001
    return " ".join(e.value for e in [*at.error, *at.warning, *at.markdown])


async def test_a_question_over_the_limit_is_refused_in_the_same_words_on_both(api, page, page_runtime):
    async with httpx.AsyncClient(base_url=api.url, headers=auth(), timeout=30) as client:
        cid = (await client.post("/api/conversation", json={})).json()["conversation_id"]
        r = await client.post(f"/api/conversation/{cid}/message", json={"message": TOO_LONG})
    assert r.status_code == 413 and r.json()["error"] == {"code": "too_large", "message": TOO_LONG_WORDS}

    at = page.run()
    assert not at.exception
    at.chat_input(key="prompt").set_value(TOO_LONG).run()
    assert not at.exception
    assert TOO_LONG_WORDS in [w.value for w in at.warning]  # (the page used to start the run)
    conv = page_runtime.store.list_conversations()[0]
    assert [m for m in page_runtime.store.list_messages(conv.id)] == []


def test_a_padded_token_is_refused_by_both(page, monkeypatch):
    from finstream.api.config import api_settings

    with pytest.raises(ValueError, match="padded with whitespace"):
        api_settings(Settings(FINSTREAM_API_TOKEN=" s3cret-token "))

    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        monkeypatch.setenv("FINSTREAM_APP_TOKEN", " s3cret-token ")
        get_settings.cache_clear()
        at = page.run()
        assert "padded with whitespace" in page_words(at)  # (the page used to accept it)
        assert not at.chat_input and not at.text_input
    finally:
        config.set_option("server.address", before)
        get_settings.cache_clear()


async def test_deleting_while_another_replica_streams_is_refused_on_both(api, page, page_runtime):
    async with httpx.AsyncClient(base_url=api.url, headers=auth(), timeout=30) as client:
        cid = (await client.post("/api/conversation", json={})).json()["conversation_id"]
        answer = api.store.begin_turn(cid, "asked on replica 2", owner="replica-2").assistant.id
        r = await client.delete(f"/api/conversation/{cid}")
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "busy" and r.json()["message_id"] == answer
        words = r.json()["error"]["message"]
        assert (await client.get(f"/api/conversation/{cid}")).status_code == 200

    at = page.run()  # the tab's own conversation, idle
    store = page_runtime.store
    busy = store.create_conversation("Streaming elsewhere")
    store.begin_turn(busy.id, "asked on replica 2", owner="replica-2")
    at.switch_page("pages/history.py").run()
    at.button(key=f"delete-{busy.id}").click().run()
    assert not at.exception
    assert md_escape(words.replace(cid, busy.id)) in [e.value for e in at.error]  # (the page used to delete it)
    assert store.get_conversation(busy.id) is not None
    idle = next(c for c in store.list_conversations() if c.id != busy.id)
    at.button(key=f"delete-{idle.id}").click().run()
    assert store.get_conversation(idle.id) is None and "Conversation deleted." in [s.value for s in at.success]


async def test_a_file_that_cannot_be_read_is_named_with_the_same_reason_on_both(api, page, page_runtime):
    async with httpx.AsyncClient(base_url=api.url, headers=auth(), timeout=30) as client:
        cid = (await client.post("/api/conversation", json={})).json()["conversation_id"]
        r = await client.post(f"/api/conversation/{cid}/documents", files={"files": ("notes.csv", b"")})
    assert r.status_code == 422 and r.json()["rejected"] == [{"filename": "notes.csv", "reason": "empty file"}]

    at = page.run()
    prompt = at.chat_input(key="prompt")
    prompt.upload("notes.csv", b"", "text/csv")
    prompt.set_value("").run()
    assert not at.exception
    assert md_escape("notes.csv: empty file") in [e.value for e in at.error]
