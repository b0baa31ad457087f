"""Tailers read the log then follow live: from any cursor, the union is exactly the log."""

from __future__ import annotations

import asyncio
import random

import pytest

from finstream import events as ev
from finstream.providers.scripted import Gate, text_parts, text_step, tool_step
from tests.runs.conftest import CHART, METRIC, Env


async def until_seq(env: Env, cid: str, seq: int) -> None:
    """Wait (by tailing) until the run has emitted ``seq``."""
    async for e in env.manager.tail(cid):
        if e.seq >= seq:
            return
    raise AssertionError(f"the run ended before seq {seq}")


async def collect(agen) -> list[ev.Event]:
    return [e async for e in agen]


def with_accumulated(log: list[ev.Event]) -> list[dict]:
    """The log as a tailer must deliver it: accumulated_text rebuilt per message."""
    texts: dict[str, str] = {}
    out = []
    for e in log:
        d = e.model_dump(mode="json")
        if e.type == "text_delta":
            texts[e.message_id] = texts.get(e.message_id, "") + e.text
            d["accumulated_text"] = texts[e.message_id]
        out.append(d)
    return out


def dumps(events: list[ev.Event]) -> list[dict]:
    return [e.model_dump(mode="json") for e in events]


BEFORE_GATE = "Revenue rose from 383 to 391 billion dollars "
HELD_AT = 1 + len(text_parts(BEFORE_GATE))  # message_start, then one delta per word: the seq the run holds at


def gated_script(gate: asyncio.Event) -> list:
    return [*text_parts(BEFORE_GATE), Gate(gate), *text_step("in fiscal 2024, up two percent.")]


async def gated_run(env: Env, seq: int) -> tuple[str, asyncio.Event]:
    """A new conversation whose run is live past ``seq`` and holds until the gate is set."""
    gate = asyncio.Event()
    env.provider.add(gated_script(gate))
    cid = env.store.create_conversation().id
    await env.manager.start(cid, "Revenue?")
    await until_seq(env, cid, seq)
    return cid, gate


@pytest.mark.parametrize("batching", [(1, 0.0), (32, 0.05), (10_000, 60.0)], ids=["each", "default", "never"])
async def test_tailers_from_start_middle_and_end_while_live(sqlite_db, batching):
    env = Env(sqlite_db, batch_size=batching[0], flush_interval=batching[1])
    cid, gate = await gated_run(env, 8)
    cursors = [0, 3, 8]
    tasks = [asyncio.create_task(collect(env.manager.tail(cid, after_seq=c))) for c in cursors]
    for _ in range(5):
        await asyncio.sleep(0)  # let them attach mid-run
    gate.set()
    results = await asyncio.gather(*tasks)
    log = env.store.read_events(cid)
    expected = with_accumulated(log)
    assert [e["seq"] for e in expected] == list(range(1, len(log) + 1))
    assert log[-1].type == "message_complete" and log[-1].success
    for cursor, got in zip(cursors, results, strict=True):
        assert dumps(got) == expected[cursor:], f"tailer from {cursor}"
    # after the run: the log alone gives the same
    assert dumps(await collect(env.manager.tail(cid, after_seq=5))) == expected[5:]
    await env.close()


async def test_tailers_started_at_random_moments_and_cursors_see_exactly_the_log(env):
    rng = random.Random(7)
    words = " ".join(f"w{i}" for i in range(120))
    env.provider.add(tool_step(("create_chart", CHART), text="Here: "), text_step(words))
    cid = env.store.create_conversation().id
    await env.manager.start(cid, "Chart it")
    tasks: list[tuple[int, asyncio.Task]] = []
    async for e in env.manager.tail(cid):
        if rng.random() < 0.3:
            cursor = rng.randint(0, e.seq)
            tasks.append((cursor, asyncio.create_task(collect(env.manager.tail(cid, after_seq=cursor)))))
    expected = with_accumulated(env.store.read_events(cid))
    assert len(tasks) > 10
    for cursor, task in tasks:
        assert dumps(await task) == expected[cursor:], f"tailer from {cursor}"


async def test_fifty_concurrent_tailers_get_the_same_complete_stream(env):
    cid, gate = await gated_run(env, 4)
    tasks = [asyncio.create_task(collect(env.manager.tail(cid))) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks)
    expected = with_accumulated(env.store.read_events(cid))
    assert all(dumps(r) == expected for r in results)


async def test_tail_can_skip_accumulated_text_and_stop_without_following(lite):
    cid, gate = await gated_run(lite, 5)
    now = await collect(lite.manager.tail(cid, follow=False, accumulated=False))
    assert [e.seq for e in now][:5] == [1, 2, 3, 4, 5]
    assert all(getattr(e, "accumulated_text", None) is None for e in now)
    gate.set()
    await lite.manager.wait(lite.manager.active_message(cid) or now[0].message_id)


async def test_tail_of_one_message_ends_at_its_last_complete(lite):
    lite.provider.add(text_step("First answer."), text_step("Second answer."))
    cid = lite.store.create_conversation().id
    m1 = await lite.manager.start(cid, "One?")
    await lite.manager.wait(m1)
    m2 = await lite.manager.start(cid, "Two?")
    await lite.manager.wait(m2)
    first = await collect(lite.manager.tail(cid, message_id=m1))
    assert {e.message_id for e in first} == {m1} and first[-1].type == "message_complete"
    second = await collect(lite.manager.tail(cid, after_seq=first[-1].seq))
    assert {e.message_id for e in second} == {m2}
    assert second[1].accumulated_text == second[1].text  # accumulated text is per message


async def test_artifacts_and_message_are_written_from_the_events(env):
    env.provider.add(tool_step(("create_chart", CHART), ("create_metric", METRIC), text="Up 2%. "),
                     text_step("Done."))
    cid = env.store.create_conversation().id
    mid = await env.manager.start(cid, "Chart revenue")
    result = await env.manager.wait(mid)
    assert result["status"] == "complete" and result["text"] == "Up 2%. Done."
    assert [(a["kind"], a["index"]) for a in result["artifacts"]] == [("chart", 0), ("metric", 0)]
    assert {k: result["usage"][k] for k in ("input_tokens", "output_tokens")} == {"input_tokens": 20, "output_tokens": 10}
    log = env.store.read_events(cid)
    chart = next(e for e in log if e.type == "chart_ready")
    assert result["artifacts"][0]["data"] == chart.chart_data
    assert env.store.get_message(mid).text == "".join(e.text for e in log if e.type == "text_delta")
