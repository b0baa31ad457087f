"""/metrics counts what happened: the events an answer committed, by type, its finished answer,
and one write-latency sample per event-log transaction (not one per conversation in it)."""

from __future__ import annotations

import asyncio
from collections import Counter

from prometheus_client.parser import text_string_to_metric_families

from finstream import events as ev
from finstream.api import metrics
from finstream.store.observe import batches_written
from tests.api.test_api_sse import new_conversation, read_sse


async def samples(client) -> dict[tuple[str, tuple], float]:  # noqa: ANN001
    r = await client.get("/metrics")
    assert r.status_code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def delta(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_an_answers_events_by_type_and_its_ending_are_counted(client):
    before = await samples(client)
    cids = [await new_conversation(client) for _ in range(3)]
    streams = await asyncio.gather(*(read_sse(client, "POST", f"/api/conversation/{cid}/message/stream",
                                              json={"message": "Revenue?"}) for cid in cids))
    after = await samples(client)
    types = Counter(e.type for events, _ in streams for e in events)
    assert types["text_delta"] > 0 and types["chart_ready"] == 3
    for kind, n in types.items():
        assert delta(before, after, "finstream_events_total", type=kind) == n, kind
    assert delta(before, after, "finstream_answers_total", stop_reason="end_turn") == 3
    writes = delta(before, after, "finstream_db_write_seconds_count")
    assert 1 <= writes <= sum(types.values())


def test_one_transaction_is_one_latency_sample_whatever_it_holds():
    histogram = metrics.DB_WRITE_SECONDS
    count = lambda: next(s.value for s in histogram.collect()[0].samples if s.name.endswith("_count"))  # noqa: E731
    texts = metrics.EVENTS.labels("text_delta")
    n0, t0 = count(), texts._value.get()
    batches = [(f"c{i}", [ev.TextDelta(seq=s, message_id=f"m{i}", text="x") for s in (1, 2)]) for i in range(4)]
    batches_written(batches, 0.002)
    assert count() - n0 == 1 and texts._value.get() - t0 == 8
