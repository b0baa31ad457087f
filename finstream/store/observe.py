"""Hooks for operations: who wants to know that a batch of events was committed, and how long the
write took (the API's /metrics registers here). The store itself stays free of metrics code."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from finstream import events as ev

log = logging.getLogger("finstream.store")

# Told once per transaction: each (conversation_id, events) it committed, and the seconds it took.
BatchObserver = Callable[[Sequence[tuple[str, Sequence[ev.Event]]], float], None]
_observers: list[BatchObserver] = []


def add_batch_observer(fn: BatchObserver) -> None:
    if fn not in _observers:
        _observers.append(fn)


def batches_written(batches: Sequence[tuple[str, Sequence[ev.Event]]], seconds: float) -> None:
    for fn in _observers:
        try:
            fn(batches, seconds)
        except Exception:  # an observer must never break a write
            log.exception("batch observer failed")
