"""The compact log: runs of text deltas stored as one row, read back as the very events written,
from any cursor, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from finstream import events as ev
from finstream.store import compact
from finstream.store.runlog import UNLOGGED_SEQ_BOUND


def mixed_events(mid: str, start: int = 1) -> list[ev.Event]:
    """text runs broken by a tool call and an artifact, then a single delta, then the end."""
    out: list[ev.Event] = [ev.MessageStart(seq=start, message_id=mid, conversation_id="c")]
    made = [*(("text", f"w{i} ") for i in range(7)), ("tool", ""),
            *(("text", f"é{i}\u2028\"q\" ") for i in range(5)), ("metric", ""), ("text", "alone")]
    for seq, (kind, text) in enumerate(made, start + 1):
        if kind == "text":
            out.append(ev.TextDelta(seq=seq, message_id=mid, text=text))
        elif kind == "tool":
            out.append(ev.ToolStart(seq=seq, message_id=mid, tool_id="t1", tool_name="create_metric"))
        else:
            out.append(ev.MetricReady(seq=seq, message_id=mid, metric_index=0,
                                      metric_data={"label": "Revenue", "value": 391035000000.0}))
    out.append(ev.MessageComplete(seq=start + len(made) + 1, message_id=mid, success=True,
                                  stop_reason="end_turn"))
    return out


def dumped(events: list[ev.Event]) -> list[dict]:
    return [ev.event_to_dict(e, accumulated=False) for e in events]


def row_count(store, cid: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM events WHERE conversation_id = :c"),
                            {"c": cid}).scalar_one()


def test_log_rows_fold_only_consecutive_deltas_of_one_message():
    events = mixed_events("m")
    rows = compact.log_rows(events)
    assert [r[2] for r in rows] == ["message_start", "text_run", "tool_start", "text_run",
                                    "metric_ready", "text_delta", "message_complete"]
    # A run is keyed by its first seq: two writers that both start after the same last seq collide.
    assert rows[1][0] == 2 and rows[3][0] == 10
    plain = compact.log_rows(events, compact=False)
    assert [(r[0], r[2]) for r in plain] == [(e.seq, e.type) for e in events]
    assert [ev.parse_event(r[3]) for r in plain] == [e.model_copy() for e in events]
    # A gap in seq or another message starts a new run.
    split = [ev.TextDelta(seq=1, message_id="a", text="x"), ev.TextDelta(seq=3, message_id="a", text="y"),
             ev.TextDelta(seq=4, message_id="b", text="z")]
    assert [r[2] for r in compact.log_rows(split)] == ["text_delta"] * 3


def test_runs_are_capped_so_a_bounded_read_finds_them():
    events = [ev.TextDelta(seq=i, message_id="m", text="x") for i in range(1, compact.RUN_MAX * 2 + 2)]
    rows = compact.log_rows(events)
    assert [r[0] for r in rows] == [1, compact.RUN_MAX + 1, 2 * compact.RUN_MAX + 1]


def test_read_back_exact_from_every_cursor(store):
    cid = store.create_conversation().id
    mid = store.begin_turn(cid, "q").assistant.id
    events = mixed_events(mid)
    store.append_batch(cid, events[:4])  # a run split across two batches
    store.append_batch(cid, events[4:])
    assert row_count(store, cid) < len(events) - 6
    want = dumped(events)
    n = len(events)
    assert store.last_seq(cid) == n
    for after in range(0, n + 1):
        assert dumped(store.read_events(cid, after)) == want[after:], after
        for before in range(after + 1, n + 2):
            got = store.read_events(cid, after, before_seq=before)
            assert dumped(got) == want[after: before - 1], (after, before)
    # Paging with a small limit never skips or repeats an event inside a run.
    for limit in (1, 2, 3, 5):
        cursor, paged = 0, []
        while page := store.read_events(cid, cursor, limit):
            assert len(page) <= limit
            paged += page
            cursor = page[-1].seq
        assert dumped(paged) == want


def test_text_before_every_seq_matches_the_deltas(store):
    cid = store.create_conversation().id
    mid = store.begin_turn(cid, "q").assistant.id
    events = mixed_events(mid)
    store.append_batch(cid, events)
    for seq in range(1, len(events) + 2):
        expected = "".join(e.text for e in events if e.type == "text_delta" and e.seq < seq)
        assert store.message_text_before(cid, mid, seq) == expected, seq


def test_interrupted_message_text_rebuilt_from_runs(store):
    cid = store.create_conversation().id
    mid = store.begin_turn(cid, "q", owner="gone:1:x").assistant.id
    events = mixed_events(mid)[:-1]  # the process died before the end
    store.append_batch(cid, events)
    assert store.mark_streaming_interrupted() == [mid]
    msg = store.get_message(mid)
    assert msg.status == "interrupted"
    assert msg.text == "".join(e.text for e in events if e.type == "text_delta")
    tail = store.read_events(cid, len(events))
    assert [e.type for e in tail] == ["error", "message_complete"]
    # Past every seq the dead process may have streamed unlogged (issue 11): never reused.
    gap = UNLOGGED_SEQ_BOUND
    assert [e.seq for e in tail] == [len(events) + gap, len(events) + gap + 1]


def test_two_writers_after_the_same_seq_collide(store):
    """A process that took a live run for dead appends its end after the last committed seq; the
    run's own next batch (a run of deltas) starts at that very seq, so the primary key refuses it."""
    import pytest
    import sqlalchemy as sa

    cid = store.create_conversation().id
    mid = store.begin_turn(cid, "q").assistant.id
    events = mixed_events(mid)[:8]  # up to the first run of deltas
    store.append_batch(cid, events)
    store.append_batch(cid, [ev.Error(seq=9, message_id=mid, code="interrupted", message="x")])
    late = [ev.TextDelta(seq=s, message_id=mid, text="late ") for s in range(9, 14)]
    with pytest.raises(sa.exc.IntegrityError):
        store.append_batch(cid, late)
    assert [e.seq for e in store.read_events(cid)] == list(range(1, 10))
    assert store.last_seq(cid) == 9 and store.last_seq(cid, message_id=mid) == 9
