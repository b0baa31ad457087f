"""python -m finstream ask, as scripts and benchmarks use it: a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

from finstream.events import parse_event

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    full_env.update({"FINSTREAM_DEMO_DELAY": "0", "PYTHONPATH": str(ROOT), **env})
    return subprocess.run(
        [sys.executable, "-m", "finstream", *args], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=120
    )


def test_ask_jsonl_prints_protocol_events_without_accumulated_text():
    proc = run_cli("ask", "--jsonl", "--no-accumulated", "What was revenue?")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_complete"
    assert all("accumulated_text" not in e for e in events)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    for e in events:
        parse_event(e)
    text = "".join(e["text"] for e in events if e["type"] == "text_delta")
    assert "no filings" in text


def test_ask_text_mode_streams_text():
    proc = run_cli("ask", "Hello")
    assert proc.returncode == 0
    assert "Upload a 10-K" in proc.stdout


def test_unreadable_file_exits_non_zero_with_its_name(tmp_path):
    missing = tmp_path / "nope.pdf"
    proc = run_cli("ask", "--file", str(missing), "q")
    assert proc.returncode == 2
    assert "nope.pdf" in proc.stderr


def test_failed_run_exits_non_zero():
    # A key with a server that does not answer: Claude is chosen, the call fails, exit code 1.
    proc = run_cli(
        "ask", "q",
        ANTHROPIC_API_KEY="sk-test-secret-key", ANTHROPIC_BASE_URL="http://127.0.0.1:9",
        FINSTREAM_MAX_RETRIES="0",
    )
    assert proc.returncode == 1
    assert "sk-test-secret-key" not in proc.stdout + proc.stderr
