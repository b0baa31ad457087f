"""The transcript rules (finstream/transcript.py): what goes back to Claude, and the context budget."""

from __future__ import annotations

from types import SimpleNamespace

from finstream import transcript

THINK = {"type": "thinking", "thinking": "Plan.", "signature": "sig"}
TOOL = {"type": "tool_use", "id": "t1", "name": "get_table", "input": {}}


def row(role, content, **meta):
    return SimpleNamespace(role=role, content=content, meta=meta)


def test_rows_of_one_role_merge_and_blocks_pass_unchanged():
    sys_key = transcript.system_key("S")
    rows = [
        row("user", "Q1"),
        row("assistant", [THINK, TOOL], system=sys_key, model="m"),
        row("user", [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}]),
        row("user", "Your previous answer was cut off."),
    ]
    out = transcript.prepare(rows, system="S", model="m")
    assert [m["role"] for m in out] == ["user", "assistant", "user"]
    assert out[1]["content"] == [THINK, TOOL]
    assert [b["type"] for b in out[2]["content"]] == ["tool_result", "text"]


def test_thinking_from_another_system_prompt_or_model_is_left_out():
    rows = [row("user", "Q1"), row("assistant", [THINK, {"type": "text", "text": "A"}],
                                   system=transcript.system_key("old filings"), model="m"),
            row("user", "Q2")]
    out = transcript.prepare(rows, system="new filings", model="m")
    assert out[1]["content"] == [{"type": "text", "text": "A"}]
    rows[1].meta["system"] = transcript.system_key("new filings")
    assert transcript.prepare(rows, system="new filings", model="m")[1]["content"][0] == THINK
    assert transcript.prepare(rows, system="new filings", model="other")[1]["content"][0]["type"] == "text"


def conversation(result_size: int, turns: int = 3):
    out = []
    for k in range(turns):
        out += [{"role": "user", "content": f"Q{k}"},
                {"role": "assistant", "content": [THINK, {**TOOL, "id": f"t{k}"}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{k}",
                                              "content": "x" * result_size}]},
                {"role": "assistant", "content": [{"type": "text", "text": f"A{k}"}]}]
    return out + [{"role": "user", "content": "Next?"}]


def test_within_budget_nothing_changes():
    messages = conversation(300)
    assert transcript.fit_context(messages, 10_000) == (messages, 0)


def test_over_budget_the_oldest_tool_results_are_trimmed_first_and_thinking_left_out():
    messages = conversation(30_000)  # 3 results of ~10K tokens each
    out, trimmed = transcript.fit_context(messages, 25_000)
    assert trimmed == 1  # the oldest alone was enough
    results = [b for m in out if isinstance(m["content"], list) for b in m["content"]
               if b["type"] == "tool_result"]
    assert results[0]["content"].startswith("[Tool result trimmed") and "30000 characters" in results[0]["content"]
    assert results[1]["content"] == "x" * 30_000 and results[2]["content"] == "x" * 30_000
    assert not any(b["type"] == "thinking" for m in out if isinstance(m["content"], list) for b in m["content"])
    assert sum(transcript.estimate_tokens(m["content"]) for m in out) <= 25_000
    assert messages[2]["content"][0]["content"] == "x" * 30_000  # the input is not modified


def test_a_tool_loop_in_progress_is_never_trimmed():
    messages = conversation(30_000)[:-2]  # ends with the user's tool results
    assert transcript.fit_context(messages, 1_000) == (messages, 0)


async def test_the_agent_trims_an_oversized_history_before_the_question():
    from finstream.agent import Turn, run_turn
    from finstream.providers.scripted import ScriptedProvider, text_step
    from finstream.tools.base import Toolbox
    from finstream.tools.outputs import OUTPUT_TOOLS

    history = conversation(250_000)  # ~250K tokens of tool results, over Haiku 4.5's 200K window
    provider = ScriptedProvider([text_step("Fine.")])
    turn = Turn("c", "m", history)
    events = [e async for e in run_turn(provider, Toolbox(list(OUTPUT_TOOLS)), turn,
                                        max_tokens=8000, model="claude-haiku-4-5")]
    assert events[-1].success
    notes = [e.message for e in events if e.type == "status"]
    assert notes and "Trimmed 1 older tool result(s)" in notes[0]  # the oldest was enough
    sent = provider.requests[0].messages
    assert sum(transcript.estimate_tokens(m["content"]) for m in sent) < 200_000 - 8000
    assert sent[-1] == {"role": "user", "content": "Next?"}
