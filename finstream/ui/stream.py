"""Turning a run's event tail into what ``st.write_stream`` consumes.

``st.write_stream`` re-sends the whole accumulated text for every chunk it receives, so feeding it
one chunk per token makes an answer's cost grow with the square of its length (8,000 one-token
chunks cost seconds of server CPU). The coalescer batches text by size and by time: a chunk goes
out once it holds ``min_chars`` characters, or once ``max_wait`` seconds passed since the last one,
so the text still appears promptly. Both thresholds grow with the text already on the page (a
chunk of at least a tenth of it; a wait of 50 ms per 4,000 characters), because each chunk costs
a re-render of everything shown: with geometric growth the total cost stays linear in the answer's
length, even for a slow stream whose chunks the time threshold would otherwise decide. Non-text events (charts, tables, metrics, tool progress) flush
the pending text first and are then handed to a callback, which writes them into the side columns
between two yields: the generator runs on the script thread, so it may call ``st.*``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from finstream import events as ev
from finstream.ui.view import MessageView

MIN_CHARS = 200
MAX_WAIT = 0.05
GROWTH = 0.1  # a chunk holds at least this share of the text already shown
WAIT_PER_CHARS = 4000  # max_wait applies per this many characters shown
HEARTBEAT = 0.1

_END = object()


def coalesce(
    events: Iterable[ev.Event | None],
    view: MessageView,
    on_event: Callable[[ev.Event], None] | None = None,
    *,
    on_tick: Callable[[], None] | None = None,
    min_chars: int = MIN_CHARS,
    max_wait: float = MAX_WAIT,
    growth: float = GROWTH,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """Yield the text of ``events`` in batches; fold every event into ``view`` as it arrives.

    A ``None`` item is a heartbeat (see :func:`with_heartbeat`): it lets pending text out when
    ``max_wait`` has passed even though no new event came, and calls ``on_tick``.
    """
    pending: list[str] = []
    size = 0
    last = clock()
    need_chars, need_wait = min_chars, max_wait

    def rescale() -> None:
        nonlocal need_chars, need_wait
        shown = len(view.text)
        need_chars = max(min_chars, int(shown * growth))
        need_wait = max_wait * max(1.0, shown / WAIT_PER_CHARS) if growth else max_wait

    rescale()  # a resumed view starts with what it already shows
    for event in events:
        if event is None:
            if on_tick is not None:
                on_tick()
            if pending and clock() - last >= need_wait:
                yield "".join(pending)
                pending, size, last = [], 0, clock()
                rescale()
            continue
        before = view.last_seq
        view.apply(event)
        if view.last_seq == before or event.message_id != view.message_id:
            continue  # already shown, or another message's event (a tail replays from its cursor)
        if isinstance(event, ev.TextDelta):
            if not event.text:
                continue
            pending.append(event.text)
            size += len(event.text)
            now = clock()
            if size >= need_chars or now - last >= need_wait:
                yield "".join(pending)
                pending, size, last = [], 0, now
                rescale()
            continue
        if pending:
            yield "".join(pending)
            pending, size, last = [], 0, clock()
        if on_event is not None:
            on_event(event)
    if pending:
        yield "".join(pending)


def with_heartbeat(
    source: Iterable[ev.Event], interval: float = HEARTBEAT
) -> Iterator[ev.Event | None]:
    """Yield ``source``'s items, and ``None`` whenever ``interval`` seconds pass without one.

    The source (a blocking tail) is read on a helper thread, so the script thread wakes up
    regularly even while the run is quiet (a tool working, a slow model): pending text gets out,
    and Streamlit gets a chance to act on a rerun or stop request instead of waiting for the next
    event. Closing this generator (a rerun killed the script) tells the reader to close the source
    after its current item; the run itself is never affected.
    """
    items: queue.Queue[object] = queue.Queue()
    stop = threading.Event()

    def read() -> None:
        iterator = iter(source)
        try:
            for item in iterator:
                items.put(item)
                if stop.is_set():
                    break
        except BaseException as exc:  # re-raised on the script thread
            items.put(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # closing an exhausted or failed tail: nothing to keep
                    pass
            items.put(_END)

    reader = threading.Thread(target=read, name="finstream-tail", daemon=True)
    reader.start()
    try:
        while True:
            try:
                item = items.get(timeout=interval)
            except queue.Empty:
                yield None
                continue
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
