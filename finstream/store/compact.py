"""The compact event log: a run of consecutive text deltas stored as one row, expanded on read.

A streamed answer is mostly ``text_delta`` events, thousands per message. Storing each as its own
row (its own JSON payload, its own index entry) made the log cost half of a fast stream's
throughput. Here a run of consecutive deltas of one message (seq n, n+1, ..., m) becomes one row:

    events(conversation_id, seq=n, message_id, type="text_run",
           payload='{"first_seq":n,"last_seq":m,"texts":[...]}')

Keyed by its **first** seq, so the primary key still makes two writers collide: a batch always
starts right after the last committed seq, so a process that wrongly took a live run for dead
(and appended its ``interrupted`` events there) and the run itself both write that seq, and one
of them fails. ``seq < before`` still finds every row holding an event before ``before``; a read
after a cursor also looks at the one row that may straddle it (store/runlog.py), and the last seq
is the last row's ``last_seq``. Reads expand runs back into the very TextDelta events that were
written, so a reader (or a resume from any seq) cannot tell the difference; old logs with one
row per delta read the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from finstream import events as ev
from finstream.store.common import _event_payload

RUN_TYPE = "text_run"
# A run never spans more deltas than this, so a reader knows how far before its cursor a run that
# straddles the cursor can start (the SQL bound in read_events).
RUN_MAX = 1024

# Only text_delta events whose fields are exactly these are folded into runs; if the protocol ever
# gives TextDelta another field, runs would drop it, so compaction turns itself off instead.
_FOLDABLE = set(ev.TextDelta.model_fields) == {"type", "seq", "message_id", "text", "accumulated_text"}

Row = tuple[int, str, str, str]  # (seq, message_id, type, payload)


def log_rows(events: Sequence[ev.Event], *, compact: bool = True) -> list[Row]:
    """The rows that store ``events`` (in order): consecutive deltas of one message as one run."""
    rows: list[Row] = []
    texts: list[str] = []
    first = last = 0
    run_message = ""
    head: ev.Event | None = None  # the run's first event (stored as itself when alone)

    def flush() -> None:
        if len(texts) == 1 and head is not None:
            rows.append((last, run_message, "text_delta", _event_payload(head)))
        elif texts:
            rows.append((first, run_message, RUN_TYPE,
                         json.dumps({"first_seq": first, "last_seq": last, "texts": texts},
                                    ensure_ascii=False, separators=(",", ":"))))

    fold = compact and _FOLDABLE
    text_delta = ev.TextDelta
    for e in events:
        if fold and type(e) is text_delta:
            # Fields from the instance dict: a pydantic attribute lookup costs several dict
            # lookups, and this runs for every delta of every stream.
            fields = e.__dict__
            seq, message_id = fields["seq"], fields["message_id"]
            if texts and seq == last + 1 and message_id == run_message and len(texts) < RUN_MAX:
                texts.append(fields["text"])
                last = seq
                continue
            flush()
            texts, first, last, run_message, head = [fields["text"]], seq, seq, message_id, e
            continue
        if texts:
            flush()
            texts = []
        rows.append((e.seq, e.message_id, e.type, _event_payload(e)))
    if texts:
        flush()
    return rows


def expand(rows: Iterable[tuple[int, str, str, str]], *, after: int = 0,
           before: int | None = None) -> Iterator[ev.Event]:
    """The events stored in ``rows`` (seq, message_id, type, payload), keeping after < seq < before."""
    for seq, message_id, kind, payload in rows:
        if kind != RUN_TYPE:
            if seq > after and (before is None or seq < before):
                yield ev.parse_event(payload)
            continue
        data = json.loads(payload)
        first = data["first_seq"]
        for i, text in enumerate(data["texts"]):
            s = first + i
            if s <= after:
                continue
            if before is not None and s >= before:
                break
            # Trusted: these fields were validated when the events were made.
            yield ev.TextDelta.model_construct(seq=s, message_id=message_id, text=text,
                                               accumulated_text=None)


def texts(rows: Iterable[tuple[int, str, str, str]], *, before: int | None = None) -> list[str]:
    """The text pieces of text rows (text_delta or runs), in order, of events with seq < before."""
    out: list[str] = []
    for seq, _message_id, kind, payload in rows:
        data: Any = json.loads(payload)
        if kind == RUN_TYPE:
            pieces = data["texts"]
            if before is not None:
                pieces = pieces[: max(0, before - data["first_seq"])]
            out.extend(pieces)
        elif before is None or seq < before:
            out.append(data["text"])
    return out


def last_seq_of(seq: int, kind: str, payload: str) -> int:
    """The last event seq a row holds (a run's last delta; else the row's own seq)."""
    return json.loads(payload)["last_seq"] if kind == RUN_TYPE else seq
