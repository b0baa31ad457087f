"""The async store seam: AsyncStore writes out every protocol method (no proxy), with the
protocol's own signature, and offers nothing the protocols do not name."""

from __future__ import annotations

import inspect

import pytest

from finstream.store import AsyncStore
from finstream.store import protocols as p

PROTOCOLS = [p.Conversations, p.Documents, p.Answers, p.Shares, p.BatchSink, p.EventLogReader,
             p.EventLog, p.Transcript, p.RunStore, p.ApiStore]


def _methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in inspect.getmembers(cls, inspect.iscoroutinefunction)
            if not name.startswith("_")}


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda c: c.__name__)
def test_the_adapter_implements_each_protocol_with_its_signature(protocol):
    mine = _methods(AsyncStore)
    wanted = _methods(protocol)
    assert wanted, protocol
    for name, signature in wanted.items():
        assert name in mine, f"AsyncStore lacks {protocol.__name__}.{name}"
        assert str(mine[name]) == str(signature), name


def test_the_adapter_is_no_proxy(store):
    astore = AsyncStore(store)
    try:
        assert "__getattr__" not in vars(AsyncStore)
        with pytest.raises(AttributeError):
            astore.update_message  # noqa: B018 - a sync-only Store method is not reachable here
        # Every public coroutine of the adapter is in some protocol (nothing untyped slips in).
        named = set().union(*(_methods(c) for c in PROTOCOLS))
        assert set(_methods(AsyncStore)) - {"run"} <= named
    finally:
        astore._pool.shutdown(wait=True)


async def test_each_call_runs_on_the_store_pool_not_the_loop(store):
    import threading

    seen: list[str] = []
    real = store.get_conversation

    def spy(conversation_id):
        seen.append(threading.current_thread().name)
        return real(conversation_id)

    store.get_conversation = spy
    astore = AsyncStore(store)
    try:
        assert await astore.get_conversation("nope") is None
        assert seen and seen[0].startswith("finstream-db")
    finally:
        astore._pool.shutdown(wait=True)
