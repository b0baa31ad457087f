"""Prometheus metrics (prometheus-client), served at ``GET /metrics`` in the text format.

What an operator of several replicas watches: runs and streams open now, events written per type
(``rate()`` of it is events per second), tokens and estimated cost, errors by code (the protocol's
``error`` events and the HTTP error responses), uploads' parse time and size, and how long each
event-log write takes. Metrics live in one process-wide registry: a replica is one process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from finstream import events as ev
from finstream.store.observe import add_batch_observer

REGISTRY = CollectorRegistry(auto_describe=True)

ACTIVE_RUNS = Gauge("finstream_active_runs", "Runs streaming in this process now.", registry=REGISTRY)
ACTIVE_STREAMS = Gauge("finstream_active_streams", "Open SSE and WebSocket streams.", registry=REGISTRY)
EVENTS = Counter("finstream_events_total", "Protocol events committed to the event log, by type.",
                 ["type"], registry=REGISTRY)
TOKENS = Counter("finstream_tokens_total", "Model tokens of finished answers, by kind.", ["kind"],
                 registry=REGISTRY)
COST = Counter("finstream_cost_usd_total", "Estimated model cost of finished answers (USD), when "
               "the answer's usage carries one.", registry=REGISTRY)
ANSWERS = Counter("finstream_answers_total", "Finished answers, by stop reason.", ["stop_reason"],
                  registry=REGISTRY)
ERRORS = Counter("finstream_errors_total", "Errors by code: error events of runs (source=run) and "
                 "HTTP error responses (source=http).", ["source", "code"], registry=REGISTRY)
REQUESTS = Counter("finstream_http_requests_total", "HTTP requests by route and status.",
                   ["method", "route", "status"], registry=REGISTRY)
INGEST_SECONDS = Histogram("finstream_ingest_seconds", "Time to parse and store one upload.",
                           buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30), registry=REGISTRY)
INGEST_BYTES = Histogram("finstream_ingest_bytes", "Size of one upload.",
                         buckets=(1e3, 1e4, 1e5, 1e6, 5e6, 2e7, 5e7, 2e8), registry=REGISTRY)
DB_WRITE_SECONDS = Histogram("finstream_db_write_seconds", "One event-log batch write (a transaction).",
                             buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
                             registry=REGISTRY)
NOTIFY = Gauge("finstream_log_listener_up", "1 while this process LISTENs for other replicas' events "
               "(PostgreSQL), 0 when it polls.", registry=REGISTRY)

_TOKEN_KINDS = {
    "input_tokens": "input", "output_tokens": "output",
    "cache_creation_input_tokens": "cache_write", "cache_read_input_tokens": "cache_read",
}
_COST_KEYS = ("cost_usd", "estimated_cost_usd", "cost")


_TEXT_DELTAS = EVENTS.labels("text_delta")  # most events: the labelled child looked up once


def observe_batches(batches: Sequence[tuple[str, Sequence[ev.Event]]], seconds: float) -> None:
    """One event-log transaction: its time, and its events by type."""
    DB_WRITE_SECONDS.observe(seconds)
    deltas = 0
    for _conversation_id, events in batches:
        for event in events:
            if type(event) is ev.TextDelta:
                deltas += 1
            else:
                _observe_event(event)
    if deltas:
        _TEXT_DELTAS.inc(deltas)


def _observe_event(event: ev.Event) -> None:
    EVENTS.labels(event.type).inc()
    if isinstance(event, ev.Error):
        ERRORS.labels("run", event.code).inc()
    elif isinstance(event, ev.MessageComplete):
        ANSWERS.labels(event.stop_reason or "unknown").inc()
        usage: dict[str, Any] = event.usage.model_dump()
        for key, kind in _TOKEN_KINDS.items():
            if isinstance(usage.get(key), int) and usage[key] > 0:
                TOKENS.labels(kind).inc(usage[key])
        for key in _COST_KEYS:
            if isinstance(usage.get(key), (int, float)) and usage[key] > 0:
                COST.inc(usage[key])
                break


add_batch_observer(observe_batches)


def observe_ingest(seconds: float, size: int) -> None:
    INGEST_SECONDS.observe(seconds)
    INGEST_BYTES.observe(size)


def bind_gauges(active_runs: Callable[[], int], active_streams: Callable[[], int],
                listening: Callable[[], bool]) -> None:
    """Point the live gauges at this app's run manager and stream slots."""
    ACTIVE_RUNS.set_function(lambda: float(active_runs()))
    ACTIVE_STREAMS.set_function(lambda: float(active_streams()))
    NOTIFY.set_function(lambda: 1.0 if listening() else 0.0)


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
