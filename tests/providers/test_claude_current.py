"""finstream on today's Claude API: the default model, adaptive thinking shown as thinking_delta,
assistant turns echoed exactly (the strict replay verifies every signature and prefix), prompt
caching with tokens and cost, continuation without prefill, and model errors a user can act on.

Everything runs through the real SDK, a real RunManager and a real SQLite store against the strict
replay server, which answers 400/404 exactly where the current API does.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from anthropic_replay import (
    SCENARIO_CHECK,
    SCENARIO_FINAL,
    SCENARIO_INTRO,
    SCENARIO_NOTE,
    SCENARIO_PLAN,
    ReplayServer,
    analyst_scenario,
    text_turn,
)
from replay_scripts import reasoned_turn

from finstream.agent import CONTINUE_PROMPT
from finstream.providers import models
from finstream.providers.claude import ClaudeProvider
from finstream.runs import RunManager
from finstream.runs.options import RunOptions
from finstream.settings import Settings
from finstream.store import AsyncStore, Store
from finstream.tools.base import Toolbox
from finstream.tools.outputs import OUTPUT_TOOLS
from tests.providers.conftest import TEST_KEY, make_settings

TOOLBOX = Toolbox(list(OUTPUT_TOOLS))
# Claude Sonnet 5.5's published prices, USD per million tokens (Anthropic's pricing page):
# input, output, 5-minute cache write, cache read.
SONNET_55 = {"input": 2.00, "output": 10.00, "write": 2.50, "read": 0.10}


def default_settings(server: ReplayServer, **kw) -> Settings:
    """Only the key and the server: every other setting is finstream's default."""
    return Settings(_env_file=None, ANTHROPIC_API_KEY=TEST_KEY, ANTHROPIC_BASE_URL=server.url,
                    FINSTREAM_RETRY_MAX_WAIT=0.05, **kw)


class Runs:
    """A RunManager over a SQLite file, with Claude talking to the replay server."""

    def __init__(self, path, settings: Settings) -> None:
        self.path = path
        self.settings = settings
        self.store = Store(f"sqlite:///{path}")
        self.astore = AsyncStore(self.store)
        self.manager = RunManager(self.astore, lambda: ClaudeProvider(settings), TOOLBOX, settings)

    async def ask(self, cid: str, question: str, options: RunOptions | None = None) -> dict:
        return await self.manager.wait(await self.manager.start(cid, question, options))

    async def close(self) -> None:
        await self.manager.shutdown()
        self.astore.close()


@pytest.fixture
async def runs(replay, tmp_path):
    r = Runs(tmp_path / "finstream.db", default_settings(replay))
    yield r
    await r.close()


def decoded(events) -> list[tuple]:
    """Each event's type and content; runs of text or thinking joined (merging is timing)."""
    out: list[tuple] = []
    for e in events:
        if e.type in ("text_delta", "thinking_delta"):
            if out and out[-1][0] == e.type:
                out[-1] = (e.type, out[-1][1] + e.text)
            else:
                out.append((e.type, e.text))
        elif e.type == "tool_start":
            out.append((e.type, e.tool_name))
        elif e.type == "tool_complete":
            out.append((e.type, e.tool_name, e.error))
        elif e.type in ("chart_ready", "metric_ready"):
            out.append((e.type,))
        elif e.type == "message_complete":
            out.append((e.type, e.success, e.stop_reason))
        elif e.type == "error":
            out.append((e.type, e.code))
        else:
            out.append((e.type,))
    return out


def cost(usage: dict) -> float:
    return (usage["input_tokens"] * SONNET_55["input"] + usage["output_tokens"] * SONNET_55["output"]
            + usage["cache_creation_input_tokens"] * SONNET_55["write"]
            + usage["cache_read_input_tokens"] * SONNET_55["read"]) / 1e6



def test_the_default_model_is_the_current_sonnet():
    assert Settings(_env_file=None).model == "claude-sonnet-5-5" == models.DEFAULT_MODEL
    assert "claude-sonnet-5-5" in models.CURRENT and "claude-sonnet-4-5" not in models.CURRENT


async def test_a_tool_using_turn_on_the_default_model_then_a_second_question_reads_the_cache(runs, replay):
    replay.responder = analyst_scenario
    cid = runs.store.create_conversation().id
    first = await runs.ask(cid, "How did Apple's revenue change?")
    events = runs.store.read_events(cid)
    assert decoded(events) == [
        ("message_start",),
        ("thinking_delta", SCENARIO_PLAN),
        ("text_delta", SCENARIO_INTRO),
        ("tool_start", "create_chart"),
        ("tool_complete", "create_chart", None),
        ("chart_ready",),
        ("thinking_delta", "\n\n" + SCENARIO_NOTE),  # the note between tool calls: never silent
        ("tool_start", "create_metric"),
        ("tool_complete", "create_metric", None),
        ("metric_ready",),
        ("thinking_delta", "\n\n" + SCENARIO_CHECK),
        ("text_delta", "\n\n" + SCENARIO_FINAL),
        ("message_complete", True, "end_turn"),
    ]
    assert first["text"] == SCENARIO_INTRO + "\n\n" + SCENARIO_FINAL  # no reasoning in the answer
    assert not replay.rejected, [str(r[1]) for r in replay.rejected]

    # The request of round 2 carried round 1's assistant turn exactly as the server issued it.
    sent = replay.requests[1].body
    assert sent["model"] == "claude-sonnet-5-5"
    assert sent["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert sent["output_config"] == {"effort": "high"}
    assert not {"temperature", "top_p", "top_k", "tool_choice"} & set(sent)
    assert sent["max_tokens"] == 32000
    issued = replay.rules.issued[sent["messages"][1]["content"][2]["id"]].content
    assert sent["messages"][1] == {"role": "assistant", "content": issued}
    assert [b["type"] for b in issued] == ["thinking", "text", "tool_use", "thinking", "tool_use"]

    # usage: the server's counts summed, priced at Sonnet 5.5's published rates
    served = replay.rules.log
    usage = first["usage"]
    for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        assert usage[name] == sum(u[name] for u in served), name
    assert usage["output_tokens"] > 0 and usage["model"] == "claude-sonnet-5-5"
    assert usage["cost_usd"] == pytest.approx(cost(usage), abs=1e-6)
    assert usage["cache_read_input_tokens"] > 0  # round 2 read what round 1 wrote

    # A second question: the whole first turn goes back unmodified (the prefix check passes) and
    # the stable prefix plus that turn come from the cache.
    before = len(replay.requests)
    final = replay.rules.issued_last  # the first answer's last response, as the server wrote it
    second = await runs.ask(cid, "And the trend since?")
    assert second["status"] == "complete", second["error"]
    assert not replay.rejected
    req = replay.requests[before].body
    assert req["messages"][:4] == replay.requests[before - 1].body["messages"] + [
        {"role": "assistant", "content": final}
    ]
    assert req["messages"][-1] == {"role": "user", "content": "And the trend since?"}
    u2 = second["usage"]
    assert u2["cache_read_input_tokens"] > usage["cache_read_input_tokens"]
    assert u2["cache_read_input_tokens"] > u2["input_tokens"] + u2["cache_creation_input_tokens"]
    assert u2["cost_usd"] == pytest.approx(cost(u2), abs=1e-6)


async def test_continue_after_a_cut_on_sonnet_55_from_another_replica(replay, tmp_path):
    replay.enqueue(
        reasoned_turn([("thinking", "Chart first."), ("text", "Revenue rose "),
                       ("tool", "create_chart", '{"title": "Revenue", "x": ["FY2023", "FY2024"], '
                        '"series": [{"name": "Revenue", "values": [383.3, 391.0]}]}', "toolu_c1")]),
        reasoned_turn([("thinking", "Now the reversal."), ("text", "and then fell")], end="close"),
        text_turn(" in FY2023."),
    )
    settings = default_settings(replay)
    a = Runs(tmp_path / "f.db", settings)
    cid = a.store.create_conversation().id
    cut = await a.ask(cid, "Revenue?")
    assert (cut["status"], cut["text"]) == ("incomplete", "Revenue rose and then fell")
    served = replay.rules.log  # both requests, the cut one included, are counted and priced
    billed = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    assert sum(cut["usage"][k] for k in billed) == sum(u[k] for u in served for k in billed)
    assert cut["usage"]["cost_usd"] > 0
    await a.close()

    b = Runs(tmp_path / "f.db", settings)  # another process: only the store is shared
    try:
        mid = cut["message_id"]
        assert await b.manager.continue_message(cid, mid) == mid
        done = await b.manager.wait(mid)
    finally:
        await b.close()
    assert not replay.rejected, [str(r[1]) for r in replay.rejected]
    assert (done["status"], done["text"]) == ("complete", "Revenue rose and then fell in FY2023.")
    body = replay.requests[-1].body
    assert body["model"] == "claude-sonnet-5-5"
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]  # ends with the user: no prefill
    assert body["messages"][1]["content"][0]["type"] == "thinking"  # round 1, exactly as received
    assert body["messages"][3] == {"role": "assistant", "content": [{"type": "text", "text": "and then fell"}]}
    assert body["messages"][4] == {"role": "user", "content": CONTINUE_PROMPT}


async def test_a_retired_model_names_itself_and_a_current_one(runs, replay):
    cid = runs.store.create_conversation().id
    result = await runs.ask(cid, "Revenue?", RunOptions(model="claude-sonnet-4-5"))
    assert result["status"] == "error" and result["error"]["code"] == "model_retired"
    assert "claude-sonnet-4-5" in result["error"]["message"]
    assert "claude-sonnet-5-5" in result["error"]["message"]
    assert replay.requests == []  # known to be gone: not even asked


async def test_an_unknown_model_is_named_with_a_suggestion(runs, replay):
    cid = runs.store.create_conversation().id
    result = await runs.ask(cid, "Revenue?", RunOptions(model="claude-opus-9"))
    assert result["error"]["code"] == "not_found"
    assert "claude-opus-9" in result["error"]["message"]
    assert "try claude-opus-5-5" in result["error"]["message"]


async def test_effort_per_run(runs, replay):
    replay.enqueue(reasoned_turn([("thinking", "Quick."), ("text", "Up 2%.")]))
    cid = runs.store.create_conversation().id
    result = await runs.ask(cid, "Revenue?", RunOptions(effort="low"))
    assert result["status"] == "complete"
    assert replay.requests[0].body["output_config"] == {"effort": "low"}


async def test_a_context_window_stop_is_incomplete_not_success(runs, replay):
    replay.enqueue(
        reasoned_turn([("text", "Revenue was")], stop_reason="model_context_window_exceeded"),
        text_turn(" $391.0B."),
    )
    cid = runs.store.create_conversation().id
    result = await runs.ask(cid, "Revenue?")
    assert (result["status"], result["stop_reason"]) == ("incomplete", "model_context_window_exceeded")
    assert result["error"]["code"] == "context_window" and result["error"]["retryable"]
    await runs.manager.continue_message(cid, result["message_id"])
    done = await runs.manager.wait(result["message_id"])
    assert (done["status"], done["text"]) == ("complete", "Revenue was $391.0B.")


async def test_the_model_list_comes_from_the_models_api(replay):
    models.clear_cache()
    ids = await asyncio.to_thread(models.available_models, TEST_KEY, replay.url)
    assert ids[0] == "claude-sonnet-5-5" and "claude-sonnet-4-5" not in ids
    assert await asyncio.to_thread(models.available_models, TEST_KEY, replay.url) is ids  # cached
    assert len([r for r in replay.requests if r.path.startswith("/v1/models")]) == 1
    models.clear_cache()
    assert models.available_models(TEST_KEY, "http://127.0.0.1:9", timeout=0.5) == models.CURRENT


def test_settings_for_the_provider_fixture_use_a_current_model(replay):
    assert make_settings(replay).model in models.CURRENT


def _cli(server: ReplayServer, tmp_path, *args: str):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "FINSTREAM_"))}
    env.update(ANTHROPIC_API_KEY="sk-ant-cli-test", ANTHROPIC_BASE_URL=server.url,
               FINSTREAM_DATA_DIR=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    return subprocess.run([sys.executable, "-m", "finstream", "ask", *args, "How did revenue change?"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)


def test_the_cli_prints_reasoning_apart_from_the_answer_with_usage(replay, tmp_path):
    replay.responder = analyst_scenario
    proc = _cli(replay, tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert SCENARIO_PLAN in out and SCENARIO_NOTE in out and SCENARIO_FINAL in out
    assert out.index(SCENARIO_PLAN) < out.index(SCENARIO_INTRO) < out.index(SCENARIO_NOTE)
    assert "\x1b[" not in out  # not a terminal: no escape codes in a pipe
    assert "[usage]" in out and "from cache" in out and "$" in out
    quiet = _cli(replay, tmp_path, "--no-thinking", "--jsonl")
    types = [json.loads(line)["type"] for line in quiet.stdout.splitlines() if line.strip()]
    assert "thinking_delta" not in types and types[-1] == "message_complete"
    loud = _cli(replay, tmp_path, "--jsonl", "--effort", "low")
    types = [json.loads(line)["type"] for line in loud.stdout.splitlines() if line.strip()]
    assert types.count("thinking_delta") >= 3
    assert replay.requests[-1].body["output_config"] == {"effort": "low"}


async def test_a_filing_uploaded_between_questions_does_not_break_the_next_one(runs, replay):
    """The filings list is part of the system prompt, so a new upload changes the prefix every
    earlier thinking block is bound to: those blocks are left out (the strict replay would answer
    400 'bound to a different conversation' otherwise), the answer itself goes back."""
    from finstream.filings.ingest import ingest

    replay.responder = analyst_scenario
    cid = runs.store.create_conversation().id
    assert (await runs.ask(cid, "Revenue?"))["status"] == "complete"
    sample = Path(__file__).resolve().parents[2] / "finstream" / "samples" / "CIK0000320193.json"
    data = sample.read_bytes()
    runs.store.add_document(cid, sample.name, data, filing=ingest(sample.name, data))
    before = len(replay.requests)
    second = await runs.ask(cid, "And now with the filing?")
    assert second["status"] == "complete", second["error"]
    assert not replay.rejected
    sent = replay.requests[before].body
    assert "CIK0000320193.json" in sent["system"][0]["text"]
    earlier = [b for m in sent["messages"][:-1] if m["role"] == "assistant" for b in m["content"]]
    assert earlier and not [b for b in earlier if b["type"] in ("thinking", "redacted_thinking")]
    assert [b["type"] for b in earlier].count("tool_use") == 2  # the tool calls still go back
