"""The run's hot path for text deltas does exactly what the general path does.

``_drive`` hands most events (text deltas, when no secret is configured) to
``TextGuard.clean_delta``, ``_Run.publish_text`` and ``EventLogWriter.add_text`` instead of
``TextGuard.events``, ``_Run.publish`` and ``EventLogWriter.add_nowait``. Each pair is run here on
the same input and must leave the same events, state and answers.
"""

from __future__ import annotations

import asyncio

import pytest

from finstream import events as ev
from finstream.runs.guard import TextGuard
from finstream.runs.state import _Run
from finstream.runs.writer import EventLogWriter
from finstream.store import compact

TEXTS = ["word ", "", "nul\x00inside", "\x00", "café ", "lone \ud800 surrogate", "\udfff",
         "emoji 📈 ", "tab\tand\nnewline", "\u2028 line separator"]


def _delta(seq: int, text: str, message_id: str = "m1") -> ev.TextDelta:
    return ev.TextDelta(seq=seq, message_id=message_id, text=text)


@pytest.mark.parametrize("text", TEXTS)
def test_clean_delta_equals_the_guard_without_secrets(text):
    guard = TextGuard([])
    assert guard.passes_text
    general = guard.events(_delta(5, text))
    fast = _delta(5, text)
    cleaned = guard.clean_delta(fast)
    assert len(general) == 1
    assert fast == general[0]
    assert cleaned == general[0].text == fast.text
    assert "\x00" not in cleaned
    cleaned.encode("utf-8")  # no lone surrogates left: PostgreSQL would refuse them


def test_the_guard_with_secrets_takes_the_general_path():
    assert not TextGuard(["sk-ant-secret-value-123"]).passes_text
    assert TextGuard(["", ""]).passes_text  # blank values are no secrets


def _queues(run: _Run) -> tuple[asyncio.Queue, asyncio.Queue]:
    live, _, _ = run.subscribe(0)
    durable, _, _ = run.subscribe(0, durable=True)
    return live, durable


def _drained(q: asyncio.Queue) -> list:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


async def test_publish_text_equals_publish():
    events = [_delta(i, f"w{i} ") for i in range(3, 12)]
    runs = []
    for fast in (False, True):
        run = _Run("c1", "m1", 3, "prefix ")
        live, durable = _queues(run)
        for e in events:
            if fast:
                run.publish_text(e, e.seq, e.text)
            else:
                run.publish(e)
        run.durable(7)
        runs.append((run, _drained(live), _drained(durable)))
    (a, a_live, a_durable), (b, b_live, b_durable) = runs
    assert a_live == b_live == events  # every live tailer, in order, once
    assert a_durable == b_durable == events[:5]  # seqs 3..7 are committed
    assert (a.events, a.seqs, a.chunks, a.chunk_seqs, a.last_seq, a.durable_seq) == \
        (b.events, b.seqs, b.chunks, b.chunk_seqs, b.last_seq, b.durable_seq)
    assert a.text_before(9) == b.text_before(9) == "prefix w3 w4 w5 w6 w7 w8 "


async def test_publish_text_without_tailers_keeps_the_events_for_a_later_snapshot():
    run = _Run("c1", "m1", 1, "")
    for i in range(1, 4):
        run.publish_text(_delta(i, "x"), i, "x")
    _, snapshot, first = run.subscribe(1)
    assert [e.seq for e in snapshot] == [2, 3] and first == 2


class _Sink:
    """A BatchSink that records the batches and can be told to fail."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.fail = fail

    async def append_batch(self, conversation_id, events, *, message_id=None, patch=None):  # noqa: ANN001
        if self.fail:
            raise RuntimeError("disk gone")
        self.batches.append([e.seq for e in events])


@pytest.mark.parametrize("fail", [False, True])
async def test_add_text_equals_add_nowait(fail):
    outcomes = []
    for fast in (False, True):
        sink = _Sink(fail=fail)
        writer = EventLogWriter(sink, "c1", "m1", batch_size=4, interval=0.0, max_pending=6,
                                max_attempts=1)
        returned = []
        for i in range(1, 15):
            e = _delta(i, f"t{i}")
            returned.append(writer.add_text(e, e.text) if fast else writer.add_nowait(e))
            if returned[-1]:
                await writer.drain()
        done = ev.MessageComplete(seq=15, message_id="m1", success=True, stop_reason="end_turn")
        returned.append(writer.add_nowait(done))
        await writer.close()
        outcomes.append((returned, sink.batches, writer.chunks, [e.seq for e in writer.unsaved],
                         writer.final, type(writer.failure)))
    assert outcomes[0] == outcomes[1]
    returned, batches, chunks, unsaved, final, failure = outcomes[1]
    assert chunks == [f"t{i}" for i in range(1, 15)]
    if fail:
        assert failure is RuntimeError and final is None and unsaved[-1] == 15
        assert unsaved == sorted(unsaved) and len(unsaved) == 15  # nothing lost, in order
    else:
        assert failure is type(None) and final is not None and not unsaved
        assert [s for b in batches for s in b] == list(range(1, 16))  # every event, once, in order


def test_log_rows_fold_deltas_read_from_the_instance_dict():
    events = [_delta(1, "a"), _delta(2, "b"), _delta(3, "c", message_id="m2"),
              ev.Status(seq=4, message_id="m2", message="s"), _delta(5, "d", message_id="m2"),
              _delta(7, "e", message_id="m2")]
    rows = compact.log_rows(events)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (1, "m1", compact.RUN_TYPE), (3, "m2", "text_delta"), (4, "m2", "status"),
        (5, "m2", "text_delta"), (7, "m2", "text_delta")]
    assert list(compact.expand(rows)) == events
