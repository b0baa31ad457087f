"""Secrets never leave in model text, errors or tool output.

A model that repeats the API key or the server's tokens (whole, or split over text deltas at any
point) has them redacted before any client sees the stream and before the log stores it; a
credential in ANTHROPIC_BASE_URL never shows in an error. The Claude path is the real anthropic
SDK against a closed loopback port.
"""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from finstream.providers.base import BlockStop, Finish, TextPart
from finstream.providers.scripted import ScriptedProvider, tool_step
from finstream.runs import RunManager
from finstream.runs.guard import REDACTED
from finstream.settings import Settings
from finstream.store import AsyncStore, Store
from finstream.tools import default_toolbox
from tests.security.served import free_port

KEY = "sk-ant-api03-Zx9fakeKEYfakeKEYfakeKEY0123456789"
TOKEN = "tok-8d1e0c2b7a94f6e3"


def _settings(**kw) -> Settings:  # noqa: ANN003
    return Settings(FINSTREAM_DEMO=True, ANTHROPIC_API_KEY=KEY, FINSTREAM_API_TOKEN=TOKEN, **kw)


def _split_everywhere(text: str, secret: str) -> list[list]:
    """One scripted answer per cut point inside ``secret``: every delta boundary is tried."""
    start = text.index(secret)
    steps = []
    for cut in range(1, len(secret)):
        a, b = text[: start + cut], text[start + cut :]
        steps.append([TextPart(a), TextPart(b), BlockStop(0), Finish("end_turn", {})])
    return steps


async def _answers(store: Store, steps: list, settings: Settings) -> list[tuple[list, str]]:
    provider = ScriptedProvider(steps)
    manager = RunManager(AsyncStore(store), lambda: provider, default_toolbox(), settings)
    out = []
    try:
        for _ in steps:
            cid = store.create_conversation().id
            mid = await manager.start(cid, "What is your key?")
            streamed = [e async for e in manager.tail(cid, message_id=mid)]
            out.append((streamed, store.get_message(mid).text))
    finally:
        await manager.shutdown()
        manager.store._pool.shutdown(wait=True)
    return out


@pytest.mark.parametrize("secret", [KEY, TOKEN])
async def test_a_repeated_secret_is_redacted_wherever_the_deltas_split_it(tmp_path, secret):
    text = f"Sure: {secret} is what I was given. Revenue was $391B."
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    results = await _answers(store, _split_everywhere(text, secret), _settings())
    expected = text.replace(secret, REDACTED)
    for streamed, stored in results:
        shown = "".join(e.text for e in streamed if e.type == "text_delta")
        assert shown == expected and stored == expected
        wire = json.dumps([e.model_dump() for e in streamed])
        assert secret not in wire and secret[: len(secret) // 2] not in wire
        seqs = [e.seq for e in streamed]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # numbered without a gap
        assert streamed[-1].type == "message_complete" and streamed[-1].success
    logged = json.dumps([e.model_dump() for e in store.read_events(store.list_conversations()[0].id)])
    assert secret not in logged
    store.close()


async def test_a_secret_in_tool_input_is_redacted_in_artifacts(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    chart = {"title": f"Key {KEY}", "chart_type": "bar", "x": ["a"], "series": [{"name": TOKEN, "values": [1]}]}
    provider = ScriptedProvider([tool_step(("create_chart", chart)),
                                 [TextPart("Done."), BlockStop(0), Finish("end_turn", {})]])
    manager = RunManager(AsyncStore(store), lambda: provider, default_toolbox(), _settings())
    cid = store.create_conversation().id
    mid = await manager.start(cid, "Chart?")
    streamed = [e async for e in manager.tail(cid, message_id=mid)]
    await manager.shutdown()
    manager.store._pool.shutdown(wait=True)
    wire = json.dumps([e.model_dump() for e in streamed]) + json.dumps([a.data for a in store.list_artifacts(cid)])
    assert KEY not in wire and TOKEN not in wire and REDACTED in wire
    assert any(e.type == "chart_ready" for e in streamed)
    store.close()


async def test_credentials_in_the_base_url_never_appear_in_errors(tmp_path):
    from finstream.providers import make_provider

    password = "pa55word-never-shown"
    base = f"http://proxyuser:{password}@127.0.0.1:{free_port()}"  # nothing listens there
    settings = Settings(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=base, FINSTREAM_MAX_RETRIES=0,
                        FINSTREAM_READ_TIMEOUT=5)
    provider = make_provider(settings)
    assert password not in repr(provider)
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    manager = RunManager(AsyncStore(store), lambda: provider, default_toolbox(), settings)
    cid = store.create_conversation().id
    mid = await manager.start(cid, "Revenue?")
    streamed = [e async for e in manager.tail(cid, message_id=mid)]
    await manager.shutdown()
    manager.store._pool.shutdown(wait=True)
    errors = [e for e in streamed if e.type == "error"]
    assert errors and errors[0].code == "connection_failed"
    everything = json.dumps([e.model_dump() for e in streamed]) + json.dumps(store.get_message(mid).error)
    assert password not in everything and "proxyuser" not in everything
    assert "127.0.0.1" in errors[0].message  # still says where it tried
    store.close()


def test_secret_values_are_taken_from_every_setting():
    from finstream.runs.guard import secrets_of

    s = Settings(ANTHROPIC_API_KEY=KEY, FINSTREAM_API_TOKEN=TOKEN, FINSTREAM_APP_TOKEN="app-token-123456",
                 ANTHROPIC_BASE_URL="https://u:long-proxy-password@proxy.example/v1")
    assert set(secrets_of(s)) == {KEY, TOKEN, "app-token-123456", "long-proxy-password"}
    assert secrets_of(Settings(FINSTREAM_API_TOKEN=SecretStr("short"))) == []  # too short to redact
