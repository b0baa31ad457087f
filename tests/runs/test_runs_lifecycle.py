"""Run lifecycle: stop, one run per conversation, continue, failures, history."""

from __future__ import annotations

import asyncio

import pytest

from finstream.agent import CONTINUE_PROMPT
from finstream.providers.base import ProviderError
from finstream.providers.scripted import Gate, text_parts, text_step, tool_step
from finstream.runs import RunBusyError
from finstream.store import NotFoundError
from tests.runs.conftest import CHART
from tests.runs.test_runs_tailing import collect, dumps, until_seq, with_accumulated


def blocked(text: str, gate: asyncio.Event | None = None) -> list:
    """Some text, then wait on a gate nobody sets (a model that stalls)."""
    return [*text_parts(text), Gate(gate or asyncio.Event())]


async def test_stop_cancels_the_run_cleanly(env):
    env.provider.add(blocked("Revenue was "))
    cid = env.store.create_conversation().id
    mid = await env.manager.start(cid, "Revenue?")
    tail = asyncio.create_task(collect(env.manager.tail(cid)))
    await until_seq(env, cid, 3)
    assert env.manager.active_message(cid) == mid
    assert await env.manager.stop(cid) is True
    events = await tail
    last = events[-1]
    assert (last.type, last.success, last.stop_reason) == ("message_complete", False, "stopped")
    assert dumps(events) == with_accumulated(env.store.read_events(cid))
    msg = env.store.get_message(mid)
    assert (msg.status, msg.stop_reason, msg.text) == ("stopped", "stopped", "Revenue was ")
    assert env.manager.active_message(cid) is None
    assert env.store.get_conversation(cid).active_message_id is None
    assert await env.manager.stop(cid) is False  # nothing left to stop


async def test_a_second_question_while_streaming_is_refused_clearly(env):
    gate = asyncio.Event()
    env.provider.add(blocked("Thinking ", gate) + text_step("done."), text_step("Second."))
    cid = env.store.create_conversation().id
    mid = await env.manager.start(cid, "First?")
    with pytest.raises(RunBusyError, match=f"conversation {cid}: an answer is still streaming"):
        await env.manager.start(cid, "Second?")
    with pytest.raises(RunBusyError):
        await env.manager.continue_message(cid, mid)
    gate.set()
    assert (await env.manager.wait(mid))["text"] == "Thinking done."
    second = await env.manager.start(cid, "Second?")
    assert (await env.manager.wait(second))["status"] == "complete"
    assert [m.role for m in env.store.list_messages(cid)] == ["user", "assistant"] * 2


async def test_continue_a_stopped_answer_into_the_same_message(env):
    env.provider.add(tool_step(("create_chart", CHART), text="Revenue rose "), blocked("and "))
    cid = env.store.create_conversation().id
    mid = await env.manager.start(cid, "Revenue?")
    await until_seq(env, cid, 7)  # "and " of the second round was sent
    await env.manager.stop(cid)
    stopped_at = env.store.last_seq(cid)
    env.provider.add(tool_step(("create_chart", CHART)), text_step("then fell."))
    assert await env.manager.continue_message(cid, mid) == mid
    result = await env.manager.wait(mid)
    assert result["status"] == "complete"
    assert result["text"] == "Revenue rose and then fell."
    assert [(a["kind"], a["index"]) for a in result["artifacts"]] == [("chart", 0), ("chart", 1)]
    request = env.provider.requests[-2]  # the continuation's first model call
    # the transcript, not the page's text: the complete first round exactly as it went (tool
    # call and result), then only the words written since, then the request to go on (no prefill)
    first, result_msg, partial, ask = request.messages[-4:]
    assert first["role"] == "assistant" and [b["type"] for b in first["content"]] == ["text", "tool_use"]
    assert first["content"][0]["text"] == "Revenue rose "
    assert [b["type"] for b in result_msg["content"]] == ["tool_result"]
    assert partial == {"role": "assistant", "content": [{"type": "text", "text": "and "}]}
    assert ask == {"role": "user", "content": CONTINUE_PROMPT}
    log = env.store.read_events(cid)
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert log[stopped_at].type == "message_start" and log[stopped_at].message_id == mid
    # one tailer over both runs of the message: accumulated text carries across
    events = await collect(env.manager.tail(cid, message_id=mid))
    assert dumps(events) == with_accumulated(log)
    deltas = [e for e in events if e.type == "text_delta"]
    assert deltas[-1].accumulated_text == "Revenue rose and then fell."


async def test_a_dropped_stream_ends_incomplete_and_can_be_continued(env):
    lost = ProviderError("connection_lost", "The connection to the model dropped.", retryable=True)
    env.provider.add([*text_parts("Margins were "), lost])
    cid = env.store.create_conversation().id
    mid = await env.manager.start(cid, "Margins?")
    result = await env.manager.wait(mid)
    assert (result["status"], result["stop_reason"]) == ("incomplete", "error")
    assert result["error"] == {"code": "connection_lost", "message": "The connection to the model dropped.",
                               "retryable": True}
    types = [e.type for e in env.store.read_events(cid)][-2:]
    assert types == ["error", "message_complete"]
    env.provider.add(text_step("46.2% in FY2024."))
    await env.manager.continue_message(cid, mid)
    result = await env.manager.wait(mid)
    assert (result["status"], result["text"], result["error"]) == ("complete", "Margins were 46.2% in FY2024.", None)


async def test_a_non_retryable_failure_ends_in_error(lite):
    lite.provider.add(ProviderError("invalid_request", "Bad request.", retryable=False))
    cid = lite.store.create_conversation().id
    mid = await lite.manager.start(cid, "q")
    assert (await lite.manager.wait(mid))["status"] == "error"


async def test_history_is_sent_with_the_next_question(lite):
    lite.provider.add(text_step("Revenue was $391B."), text_step("Up 2%."))
    cid = lite.store.create_conversation().id
    await lite.manager.wait(await lite.manager.start(cid, "Revenue?"))
    await lite.manager.wait(await lite.manager.start(cid, "Growth?"))
    assert lite.provider.requests[-1].messages == [
        {"role": "user", "content": "Revenue?"},
        {"role": "assistant", "content": [{"type": "text", "text": "Revenue was $391B."}]},
        {"role": "user", "content": "Growth?"},
    ]
    lite.provider.assert_consumed()


async def test_bad_requests_name_the_problem_and_change_nothing(lite):
    with pytest.raises(NotFoundError, match="conversation nope: not found"):
        await lite.manager.start("nope", "q")
    cid = lite.store.create_conversation().id
    with pytest.raises(ValueError, match="question: empty"):
        await lite.manager.start(cid, " ")
    lite.provider.add(text_step("Fine."))
    mid = await lite.manager.start(cid, "q")
    await lite.manager.wait(mid)
    with pytest.raises(ValueError, match="status 'complete'"):
        await lite.manager.continue_message(cid, mid)
    with pytest.raises(NotFoundError, match="message nope"):
        await lite.manager.wait("nope")
    assert [m.status for m in lite.store.list_messages(cid)] == ["complete", "complete"]


async def test_a_run_goes_on_when_its_tailers_go_away(lite):
    gate = asyncio.Event()
    lite.provider.add(blocked("Part one ", gate) + text_step("part two."))
    cid = lite.store.create_conversation().id
    mid = await lite.manager.start(cid, "q")
    agen = lite.manager.tail(cid)
    async for e in agen:
        if e.seq >= 2:
            break
    await agen.aclose()  # the consumer left (a rerun, a closed tab)
    gate.set()
    assert (await lite.manager.wait(mid))["text"] == "Part one part two."


async def test_shutdown_ends_runs_as_interrupted_and_they_can_be_continued(db):
    from tests.runs.conftest import Env

    first = Env(db)
    first.provider.add(blocked("Half of "))
    cid = db.create_conversation().id
    mid = await first.manager.start(cid, "q")
    await until_seq(first, cid, 3)
    await first.close()  # a graceful restart
    log = db.read_events(cid)
    assert [(e.type, getattr(e, "stop_reason", None)) for e in log[-2:]] == [
        ("error", None), ("message_complete", "interrupted")]
    msg = db.get_message(mid)
    assert (msg.status, msg.text, msg.error["code"]) == ("interrupted", "Half of ", "interrupted")
    second = Env(db)
    assert await second.manager.recover() == []  # nothing left streaming
    second.provider.add(text_step("the answer."))
    await second.manager.continue_message(cid, mid)
    assert (await second.manager.wait(mid))["text"] == "Half of the answer."
    await second.close()


async def test_the_next_question_can_follow_message_complete_at_once(env):
    """A client that sees message_complete may ask again immediately: the terminal event is only
    delivered once it is durable and the conversation is free."""
    cid = env.store.create_conversation().id
    for i in range(5):
        env.provider.add(text_step(f"Answer {i}."))
        mid = await env.manager.start(cid, f"Question {i}?")
        async for event in env.manager.tail(cid, after_seq=env.store.last_seq(cid) if i else 0):
            if event.type == "message_complete":
                assert env.store.get_message(mid).status == "complete"
                break
    assert [m.text for m in env.store.list_messages(cid)][-1] == "Answer 4."


async def test_deleting_the_conversation_mid_run_ends_the_run_without_hanging(env):
    gate = asyncio.Event()
    env.provider.add(blocked("Some text ", gate) + text_step("more."))
    cid = env.store.create_conversation().id
    mid = await env.manager.start(cid, "q")
    tail = asyncio.create_task(collect(env.manager.tail(cid)))
    await until_seq(env, cid, 3)
    assert env.store.delete_conversation(cid)
    gate.set()  # the run's next writes violate the foreign key: dropped, logged, not retried
    events = await tail
    assert events[-1].type == "message_complete"  # live tailers still got the whole answer
    assert env.manager.active_message(cid) is None
    assert env.store.get_message(mid) is None and env.store.read_events(cid) == []


def test_dead_owners_are_recognised_without_waiting_for_staleness():
    import os
    import socket

    from finstream.runs.owner import owner_is_dead

    host = socket.gethostname()
    me = f"{host}:{os.getpid()}:aaaa"
    assert not owner_is_dead(me, me)
    assert owner_is_dead(f"{host}:{os.getpid()}:bbbb", me)  # an earlier life of this pid
    assert not owner_is_dead(f"{host}:{os.getppid()}:cccc", me)  # alive
    assert owner_is_dead(f"{host}:999999999:dddd", me)  # no such process
    assert not owner_is_dead("elsewhere:1:eeee", me)  # another host: only staleness tells
    assert not owner_is_dead("garbage", me)
