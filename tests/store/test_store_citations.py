"""The store's read of a message's citation events (footnotes in history), on SQLite and on the
real PostgreSQL (the ``store`` fixture of tests/store/conftest.py)."""

from __future__ import annotations

from finstream import events as ev
from finstream.store import MessagePatch, Store


def _cite(mid: str, seq: int, index: int, offset: int, quote: str) -> ev.Citation:
    return ev.Citation(seq=seq, message_id=mid, index=index, filing="b.htm", section="EX-99.1",
                       quoted_text=quote, text_offset=offset, source="finstream://filing/b.htm")


def test_message_citations_in_seq_order_by_message(store: Store):
    c = store.create_conversation()
    first = store.begin_turn(c.id, "q1").assistant.id
    batch: list[ev.Event] = [ev.MessageStart(seq=1, message_id=first, conversation_id=c.id),
                             _cite(first, 2, 0, 0, "Net sales fell"),
                             ev.TextDelta(seq=3, message_id=first, text="Sales fell.", accumulated_text=None),
                             _cite(first, 4, 1, 11, "Online sales ‘fell’ <b>"),
                             ev.MessageComplete(seq=5, message_id=first, success=True, stop_reason="end_turn",
                                                usage=ev.Usage())]
    store.append_batch(c.id, batch, patch=MessagePatch(append_text="Sales fell.", status="complete",
                                                       stop_reason="end_turn", release=True))
    second = store.begin_turn(c.id, "q2").assistant.id
    store.append_batch(c.id, [ev.MessageStart(seq=6, message_id=second, conversation_id=c.id)])
    got = store.message_citations([first, second, "unknown"])
    assert list(got) == [first]  # messages without citations are left out
    assert [(x["seq"], x["index"], x["text_offset"], x["quoted_text"]) for x in got[first]] == [
        (2, 0, 0, "Net sales fell"), (4, 1, 11, "Online sales ‘fell’ <b>")]
    assert ev.parse_event(got[first][1]) == batch[3]
    assert store.message_citations([]) == {}
