"""Streamlit page costs, measured side by side in one run.

1. Server CPU (process time, all threads) to stream an 8,000-delta answer through st.write_stream:
   finstream's coalescer (by size and time) against the naive one chunk per delta. Both run as a
   Streamlit script under AppTest, which drives the real script runner and element pipeline
   (write_stream re-renders the whole text at every chunk; that is what makes the naive way
   quadratic).
2. Script time to re-render a history of 50 messages with 30 charts (plus their tables and metric
   tiles): the analysis page of app.py on a real store, cold (first run of a session, i.e. a
   reload) and warm (a rerun, i.e. any widget click).

Targets: < 0.5 s CPU for the coalesced 8,000 deltas; history re-render < 1 s.

    .venv/bin/python benchmarks/bench_ui.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DELTAS = 8000


def _stream_script(mode: str, deltas: int) -> None:
    # Runs inside AppTest: everything it needs is imported here.
    import streamlit as st

    from finstream import events as ev
    from finstream.ui.stream import coalesce
    from finstream.ui.view import MessageView

    words = ["Revenue ", "rose ", "2.0% ", "to ", "$391.0B ", "in ", "FY2024, ", "while "]
    events = [ev.TextDelta(seq=i + 1, message_id="m", text=words[i % len(words)]) for i in range(deltas)]
    if mode == "coalesced":
        st.write_stream(coalesce(iter(events), MessageView("m")))
    elif mode == "fixed":
        st.write_stream(coalesce(iter(events), MessageView("m"), growth=0))
    elif mode == "naive":
        st.write_stream(e.text for e in events)
    else:  # baseline: the same events and an empty page, to subtract AppTest's own cost
        st.markdown("".join(e.text for e in events))


def bench_stream(mode: str, deltas: int = DELTAS) -> tuple[float, float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_stream_script, args=(mode, deltas), default_timeout=300)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    at.run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    assert not at.exception, at.exception
    text = at.markdown[0].value
    assert len(text) > deltas * 3 or mode == "baseline", "the whole answer must be on the page"
    return cpu, wall


def seed_history(messages: int = 50, charts: int = 30) -> str:
    """A conversation of messages/2 questions and answers; the answers carry ``charts`` charts, a
    table and two metric tiles each (as the demo analyst makes them)."""
    from finstream import events as ev
    from finstream.providers.scripted import ScriptedProvider  # noqa: F401  (runtime import check)
    from finstream.runs.bridge import get_runtime
    from finstream.store import MessagePatch
    from finstream.tools.outputs import ChartInput, create_chart

    rt = get_runtime()
    store = rt.store
    conv = store.create_conversation("Benchmark: 50 messages, 30 charts")
    seq = 0
    answers = messages // 2
    per_answer = [charts // answers + (1 if i < charts % answers else 0) for i in range(answers)]
    for i in range(answers):
        store.add_message(conv.id, "user", f"Question {i + 1}: how did revenue develop?")
        msg = store.add_message(conv.id, "assistant", "", status="streaming")
        batch = []
        text = f"Answer {i + 1}. Revenue rose 2.0% to $391.0B in FY2024. " * 6
        seq += 1
        batch.append(ev.TextDelta(seq=seq, message_id=msg.id, text=text))
        for c in range(per_answer[i]):
            spec = ChartInput(title=f"Revenue {i}-{c}", chart_type="line", x=["FY2022", "FY2023", "FY2024"],
                              series=[{"name": "Revenue", "values": [394.3e9, 383.3e9, 391.0e9]},
                                      {"name": "Net income", "values": [99.8e9, 97.0e9, 93.7e9]}],
                              unit="USD", sources=[{"document": "aapl.htm", "period": "FY2024"}])
            seq += 1
            batch.append(ev.ChartReady(seq=seq, message_id=msg.id, chart_index=c,
                                       chart_data=create_chart(spec, None).artifact))
        for m in range(2):
            seq += 1
            batch.append(ev.MetricReady(seq=seq, message_id=msg.id, metric_index=m, metric_data={
                "label": f"Revenue FY2024 ({m})", "value": 391.0e9, "unit": "USD", "display": "$391.0B",
                "delta": 2.0, "delta_display": "+2.0%", "delta_color": "normal",
                "sources": [{"document": "aapl.htm"}]}))
        seq += 1
        batch.append(ev.TableReady(seq=seq, message_id=msg.id, table_index=0, table_data={
            "title": "Figures", "columns": [{"name": "Period", "format": "text"},
                                            {"name": "Revenue", "format": "currency"}],
            "rows": [["FY2023", 383285.0], ["FY2024", 391035.0]], "unit_note": "USD millions",
            "sources": [{"document": "aapl.htm"}]}))
        seq += 1
        batch.append(ev.MessageComplete(seq=seq, message_id=msg.id, success=True, stop_reason="end_turn"))
        store.append_batch(conv.id, batch, message_id=msg.id,
                           patch=MessagePatch(append_text=text, status="complete", stop_reason="end_turn"))
    return conv.id


def bench_history(conversation_id: str, runs: int = 5) -> tuple[float, list[float]]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["c"] = conversation_id
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 30, len(at.get("plotly_chart"))
    warm = []
    for _ in range(runs):
        t0 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t0)
    return cold, warm


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="finstream-bench-ui-")
    os.environ["FINSTREAM_DATA_DIR"] = tmp
    os.environ.pop("ANTHROPIC_API_KEY", None)
    os.environ.pop("DATABASE_URL", None)
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)

    bench_stream("coalesced", 200)  # warm imports

    def best(mode: str, repeat: int = 3) -> tuple[float, float]:
        return min((bench_stream(mode) for _ in range(repeat)), key=lambda r: r[0])

    baseline = best("baseline")
    coalesced = best("coalesced")
    fixed = best("fixed")
    naive = bench_stream("naive")
    print(f"stream {DELTAS} deltas through st.write_stream (server CPU, process time, whole script run):")
    print(f"  AppTest + events, no streaming:        {baseline[0]:6.3f} s CPU")
    print(f"  coalesced, adaptive (finstream):       {coalesced[0]:6.3f} s CPU  ({coalesced[1]:.3f} s wall)"
          f"   target < 0.5 s: {'OK' if coalesced[0] < 0.5 else 'MISSED'}")
    print(f"  coalesced, fixed >=200 chars / 50 ms:  {fixed[0]:6.3f} s CPU  ({fixed[1]:.3f} s wall)")
    print(f"  naive, one chunk per delta:            {naive[0]:6.3f} s CPU  ({naive[1]:.3f} s wall)")
    print(f"  naive / coalesced CPU ratio:           {naive[0] / coalesced[0]:6.1f}x"
          f"   (fixed / coalesced: {fixed[0] / coalesced[0]:.1f}x)")

    conversation_id = seed_history()
    cold, warm = bench_history(conversation_id)
    median = statistics.median(warm)
    print("re-render a history of 50 messages with 30 charts (analysis page script time):")
    print(f"  cold (new session / reload): {cold:6.3f} s   warm rerun (widget click): median {median:6.3f} s"
          f" (min {min(warm):.3f})   target < 1 s: {'OK' if max(cold, median) < 1 else 'MISSED'}")
    from finstream.runs.bridge import get_runtime

    get_runtime().close()


if __name__ == "__main__":
    main()
