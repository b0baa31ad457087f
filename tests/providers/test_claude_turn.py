"""A whole turn through ClaudeProvider + run_turn against the replay server (the real SDK)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from anthropic_replay import (
    SCENARIO_FINAL,
    ReplayServer,
    analyst_scenario,
    error_after_200,
    http_error,
    max_tokens_in_tool,
    no_message_stop,
    refusal,
    text_turn,
    tool_turn,
)

from finstream.agent import Turn, run_turn
from finstream.events import parse_event
from finstream.tools import default_toolbox
from finstream.tools.base import Toolbox
from finstream.tools.outputs import OUTPUT_TOOLS

REPO = Path(__file__).resolve().parents[2]
TOOLBOX = Toolbox(OUTPUT_TOOLS)
CHART = {
    "title": "Revenue",
    "chart_type": "bar",
    "x": ["FY2023", "FY2024"],
    "series": [{"name": "Revenue", "values": [383285000000.0, 391035000000.0]}],
}
METRIC = {"label": "Revenue FY2024", "value": 391035000000.0, "unit": "USD", "delta": 2.02}
BROKEN = '{"title": "Income", "columns": [{"name": "Year"'  # closes the block, never the JSON


async def run(provider, question="How did revenue change?", toolbox=TOOLBOX, max_rounds=4):
    turn = Turn("conv-1", "msg-1", [{"role": "user", "content": question}])
    return [
        e async for e in run_turn(provider, toolbox, turn, max_tokens=1024, max_rounds=max_rounds)
    ]


def decoded(events) -> list[tuple]:
    """Each event's type and the fields that matter, after a round trip through the protocol."""
    out: list[tuple] = []
    for event in events:
        e = parse_event(event.model_dump_json())
        if e.type == "text_delta":
            # Joined: the provider merges text that arrived together while its consumer was busy,
            # so how many deltas a run of text takes is timing, not behaviour.
            if out and out[-1][0] == "text_delta":
                out[-1] = (e.type, out[-1][1] + e.text)
            else:
                out.append((e.type, e.text))
        elif e.type == "tool_start":
            out.append((e.type, e.tool_id, e.tool_name))
        elif e.type == "tool_complete":
            out.append((e.type, e.tool_id, e.error is None))
        elif e.type in ("chart_ready", "table_ready", "metric_ready"):
            out.append((e.type, getattr(e, e.type.replace("ready", "index"))))
        elif e.type == "message_complete":
            out.append(
                # All input tokens, however the cache split them (checked field by field apart).
                (e.type, e.success, e.stop_reason, e.usage.input_tokens
                 + e.usage.cache_creation_input_tokens + e.usage.cache_read_input_tokens,
                 e.usage.output_tokens)
            )
        elif e.type == "error":
            out.append((e.type, e.code, e.retryable))
        else:
            out.append((e.type,))
    return out


async def test_tool_using_turn_whole_event_sequence(replay, claude):
    tools = [
        ("create_chart", json.dumps(CHART)),
        ("create_metric", json.dumps(METRIC)),
        ("create_table", BROKEN),
    ]
    replay.enqueue(
        tool_turn(
            tools, text="Revenue rose.", ids=["tu_chart", "tu_metric", "tu_table"], input_tokens=40
        ),
        text_turn(["Revenue ", "was ", "$391.0B."], input_tokens=90, output_tokens=7),
    )
    events = await run(claude())
    served = replay.rules.log  # what the server counted for each of the two requests
    total_in = sum(sum(u.values()) for u in served)
    assert decoded(events) == [
        ("message_start",),
        ("text_delta", "Revenue rose."),
        ("tool_start", "tu_chart", "create_chart"),
        ("tool_complete", "tu_chart", True),
        ("chart_ready", 0),
        ("tool_start", "tu_metric", "create_metric"),
        ("tool_complete", "tu_metric", True),
        ("metric_ready", 0),
        ("tool_start", "tu_table", "create_table"),
        ("tool_complete", "tu_table", False),
        ("text_delta", "\n\nRevenue was $391.0B."),
        ("message_complete", True, "end_turn", total_in, 35 + 7),
    ]
    usage = events[-1].usage
    for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        assert getattr(usage, name) == sum(u[name] for u in served), name
    assert usage.cache_read_input_tokens > 0  # round 2 read the prefix round 1 wrote
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(e.message_id == "msg-1" for e in events)
    assert "".join(e.text for e in events if e.type == "text_delta") == "Revenue rose.\n\nRevenue was $391.0B."
    by_type = {e.type: e for e in events}
    assert by_type["chart_ready"].chart_data["figure"]["data"][0]["y"] == [383285e6, 391035e6]
    assert by_type["metric_ready"].metric_data["display"] == "$391.0B"
    broken = next(e for e in events if e.type == "tool_complete" and e.tool_id == "tu_table")
    assert "not valid JSON" in broken.error and broken.input is None

    # The second request carried the assistant's blocks, then ONE user message with one
    # tool_result per tool_use, in order; the broken one is an is_error result echoing the input.
    assert len(replay.requests) == 2
    first, second = replay.requests[0].body, replay.requests[1].body
    assert second["messages"][0] == first["messages"][0]
    assistant, results = second["messages"][1:]
    assert assistant["role"] == "assistant"
    assert [b["type"] for b in assistant["content"]] == ["text", "tool_use", "tool_use", "tool_use"]
    assert assistant["content"][1]["input"] == CHART and assistant["content"][3]["input"] == {}
    assert results["role"] == "user"
    assert [b["type"] for b in results["content"]] == ["tool_result"] * 3
    assert [b["tool_use_id"] for b in results["content"]] == ["tu_chart", "tu_metric", "tu_table"]
    assert [bool(b.get("is_error")) for b in results["content"]] == [False, False, True]
    assert BROKEN in results["content"][2]["content"]
    assert json.loads(results["content"][0]["content"]) == {"shown": "chart", "title": "Revenue"}
    assert {t["name"] for t in second["tools"]} == {"create_chart", "create_table", "create_metric"}


FAILURES = {
    "error-after-200": (
        error_after_200(),
        [("error", "overloaded", True), ("message_complete", False, "error")],
    ),
    "no-message-stop": (
        no_message_stop(),
        [("error", "incomplete_stream", True), ("message_complete", False, "incomplete")],
    ),
    "max-tokens-in-tool": (
        max_tokens_in_tool(close_block=False),
        [
            ("tool_complete", "toolu_replay_cut", False),
            ("error", "max_tokens", True),
            ("message_complete", False, "max_tokens"),
        ],
    ),
    "refusal": (refusal(), [("error", "refusal", False), ("message_complete", False, "refusal")]),
    "spend-cap": (
        http_error(429),
        [("error", "rate_limited", False), ("message_complete", False, "error")],
    ),
}


@pytest.mark.parametrize("name", FAILURES)
async def test_failures_end_the_turn_with_error_then_message_complete(replay, claude, name):
    reply, tail = FAILURES[name]
    replay.enqueue(reply)
    events = await run(claude())
    got = [t[:3] if t[0] == "message_complete" else t for t in decoded(events)]
    assert got[0] == ("message_start",) and got[-len(tail) :] == tail
    assert sum(e.type == "message_complete" for e in events) == 1


async def test_retry_shows_as_status_then_the_answer(replay, claude):
    replay.enqueue(http_error(529, retry_after_ms=5), text_turn("Back."))
    events = await run(claude())
    assert [t[0] for t in decoded(events)] == [
        "message_start",
        "status",
        "text_delta",
        "message_complete",
    ]
    assert "overloaded" in events[1].message and events[-1].success


async def test_scenario_mode_answers_like_an_analyst_through_the_real_tools(claude):
    with ReplayServer(responder=analyst_scenario) as server:
        events = await run(claude(ANTHROPIC_BASE_URL=server.url), toolbox=default_toolbox())
    types = [e.type for e in events]
    assert types.count("chart_ready") == 1 and types.count("metric_ready") == 1
    assert not [e for e in events if e.type == "tool_complete" and e.error]
    assert events[-1].type == "message_complete" and events[-1].success
    assert "".join(e.text for e in events if e.type == "text_delta").endswith(SCENARIO_FINAL)
    assert len(server.requests) == 2 and server.unexpected == []


def test_cli_runs_through_the_real_sdk_when_a_key_is_set(tmp_path):
    """`ANTHROPIC_API_KEY=... ANTHROPIC_BASE_URL=<replay>` makes the CLI use Claude, end to end."""
    pytest.importorskip("finstream.filings.ingest", reason="the CLI needs the filings package")
    with ReplayServer(responder=analyst_scenario, api_key="sk-ant-cli-test") as server:
        env = {
            **os.environ,
            "ANTHROPIC_API_KEY": "sk-ant-cli-test",
            "ANTHROPIC_BASE_URL": server.url,
            "FINSTREAM_DEMO": "0",
            "FINSTREAM_DATA_DIR": str(tmp_path),
            "PYTHONPATH": str(REPO),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "finstream", "ask", "--jsonl", "How did revenue change?"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    types = [e["type"] for e in events]
    assert "chart_ready" in types and "metric_ready" in types and types[-1] == "message_complete"
    assert len(server.requests) == 2
    assert "sk-ant-cli-test" not in proc.stdout + proc.stderr


async def test_replay_server_runs_as_a_script_for_other_surfaces(claude):
    """`python tests/support/anthropic_replay.py --script 529,scenario` as other engineers run it."""
    script = REPO / "tests" / "support" / "anthropic_replay.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--script", "529,scenario", "--delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = await asyncio.to_thread(proc.stdout.readline)
        assert banner.startswith("anthropic_replay listening on http://127.0.0.1:"), banner
        url = banner.split()[3]
        events = await run(claude(ANTHROPIC_BASE_URL=url), toolbox=default_toolbox())
    finally:
        proc.terminate()
        proc.wait(10)
    types = [t[0] for t in decoded(events)]
    assert types[:2] == ["message_start", "status"]  # the scripted 529, retried
    assert "chart_ready" in types and "metric_ready" in types
    assert events[-1].type == "message_complete" and events[-1].success
