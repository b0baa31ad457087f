"""The strict replay server holds the current API's rules: one test per rule, through the real SDK.

Each rule is what Anthropic's docs say the API does (see tests/support/replay_strict.py); if the
server stopped enforcing one, the tests that rely on it to catch finstream's mistakes would pass
for the wrong reason.
"""

from __future__ import annotations

import anthropic
import pytest
from anthropic_replay import ReplayServer, text_turn
from replay_scripts import reasoned_turn

MODEL = "claude-sonnet-5-5"
Q = [{"role": "user", "content": "How did revenue change?"}]
TOOL = {"name": "get_financial_data", "description": "Reported figures.",
        "input_schema": {"type": "object", "properties": {"metric": {"type": "string"}}}}
SUMMARIZED = {"type": "adaptive", "display": "summarized"}
# A prompt long enough to cache on the 5.5 generation (512 tokens minimum).
LONG_SYSTEM = "You are a careful financial analyst. " * 120


@pytest.fixture
def client(replay: ReplayServer):
    return anthropic.AsyncAnthropic(api_key="k", base_url=replay.url, max_retries=0)


async def create(client, **kw):
    """One streamed request (the replay serves SSE); the SDK assembles the final message."""
    params = {"model": MODEL, "max_tokens": 1024, "messages": Q, **kw}
    async with client.messages.stream(**params) as stream:
        return await stream.get_final_message()


async def rejected(client, replay, status=400, **kw) -> str:
    with pytest.raises(anthropic.APIStatusError) as info:
        await create(client, **kw)
    assert info.value.status_code == status
    assert replay.rejected, "the server must have refused it before choosing a reply"
    return str(info.value)


async def tool_round(client, replay, *, display="summarized"):
    """One response with thinking, a note, tool calls; returns (request body, its content)."""
    replay.enqueue(reasoned_turn([
        ("thinking", "Revenue is in the income statement."),
        ("tool", "get_financial_data", '{"metric": "revenue"}', "toolu_a"),
        ("thinking", "Now the prior year, to compare."),
        ("redacted",),
        ("tool", "get_financial_data", '{"metric": "revenue_prior"}', "toolu_b"),
    ]))
    thinking = {"type": "adaptive", "display": display}
    reply = await create(client, tools=[TOOL], thinking=thinking)
    content = [b.model_dump(mode="json", exclude_none=True) for b in reply.content]
    return content


def next_round(content):
    results = [{"type": "tool_result", "tool_use_id": b["id"], "content": "391035000000"}
               for b in content if b["type"] == "tool_use"]
    return [*Q, {"role": "assistant", "content": content}, {"role": "user", "content": results}]


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "claude-sonnet-4", "claude-opus-4-1", "claude-3-opus-20240229"])
async def test_a_retired_model_is_not_found(client, replay, model):
    with pytest.raises(anthropic.NotFoundError) as info:
        await create(client, model=model)
    assert info.value.body["error"]["type"] == "not_found_error"
    assert model in str(info.value)


async def test_an_unknown_model_is_not_found(client, replay):
    with pytest.raises(anthropic.NotFoundError):
        await create(client, model="claude-replay-1")


async def test_assistant_prefill_is_rejected_on_the_55_generation(client, replay):
    text = await rejected(client, replay, messages=[*Q, {"role": "assistant", "content": "Revenue"}])
    assert "prefill" in text


async def test_prefill_is_still_accepted_by_a_legacy_model(client, replay):
    replay.enqueue(text_turn(" grew."))
    reply = await create(client, model="claude-haiku-4-5",
                         messages=[*Q, {"role": "assistant", "content": "Revenue"}])
    assert reply.content[0].text == " grew."


@pytest.mark.parametrize("choice", [{"type": "any"}, {"type": "tool", "name": "get_financial_data"}])
async def test_forced_tool_choice_is_rejected(client, replay, choice):
    assert "forced tool use" in await rejected(client, replay, tools=[TOOL], tool_choice=choice)


async def test_auto_tool_choice_is_accepted(client, replay):
    replay.enqueue(text_turn("Fine."))
    await create(client, tools=[TOOL], tool_choice={"type": "auto"})


@pytest.mark.parametrize("thinking", [
    {"type": "enabled", "budget_tokens": 2048},
    {"type": "adaptive", "budget_tokens": 2048},
    {"type": "disabled"},
])
async def test_manual_or_disabled_thinking_is_rejected(client, replay, thinking):
    await rejected(client, replay, thinking=thinking)


@pytest.mark.parametrize("name,value", [("temperature", 0.2), ("top_p", 0.9), ("top_k", 5)])
async def test_sampling_parameters_are_rejected(client, replay, name, value):
    # This SDK no longer has these parameters at all; an older client or a proxy could still send them.
    assert name in await rejected(client, replay, extra_body={name: value})


async def test_thinking_text_only_under_display_summarized(client, replay):
    shown = await tool_round(client, replay, display="summarized")
    thinking = [b for b in shown if b["type"] == "thinking"]
    assert [b["thinking"] for b in thinking] == ["Revenue is in the income statement.",
                                                  "Now the prior year, to compare."]
    assert all(b["signature"] for b in thinking)
    hidden = await tool_round(client, replay, display="omitted")
    thinking = [b for b in hidden if b["type"] == "thinking"]
    assert [b["thinking"] for b in thinking] == ["", ""] and all(b["signature"] for b in thinking)
    assert [b["type"] for b in hidden] == ["thinking", "tool_use", "thinking", "redacted_thinking", "tool_use"]


async def test_a_tool_round_echoed_exactly_is_accepted(client, replay):
    content = await tool_round(client, replay)
    replay.enqueue(text_turn("Revenue grew 2.0%."))
    reply = await create(client, tools=[TOOL], thinking=SUMMARIZED, messages=next_round(content))
    assert reply.content[0].text == "Revenue grew 2.0%."


@pytest.mark.parametrize("change", ["drop_thinking", "drop_redacted", "edit_text", "reorder"])
async def test_a_tool_round_without_its_thinking_unmodified_is_rejected(client, replay, change):
    content = await tool_round(client, replay)
    if change == "drop_thinking":  # rebuilt from text and tool_use only (finstream's old bug)
        content = [b for b in content if b["type"] not in ("thinking", "redacted_thinking")]
    elif change == "drop_redacted":
        content = [b for b in content if b["type"] != "redacted_thinking"]
    elif change == "edit_text":
        content[0] = {**content[0], "thinking": content[0]["thinking"] + " (edited)"}
    else:
        content = [content[2], content[1], content[0], content[3], content[4]]
    with pytest.raises(anthropic.BadRequestError):
        await create(client, tools=[TOOL], thinking=SUMMARIZED, messages=next_round(content))


async def test_a_changed_prefix_fails_the_signature_check(client, replay):
    content = await tool_round(client, replay)
    with pytest.raises(anthropic.BadRequestError) as info:  # the system prompt changed since
        await create(client, tools=[TOOL], thinking=SUMMARIZED, messages=next_round(content),
                     system="A different system prompt.")
    assert "bound to a different conversation" in str(info.value)


async def test_cache_tokens_reported_and_read_on_the_same_prefix(client, replay):
    replay.enqueue(text_turn("One."), text_turn("Two."), text_turn("Three."))
    system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}]
    first = await create(client, system=system, cache_control={"type": "ephemeral"})
    assert first.usage.cache_creation_input_tokens > 512 and first.usage.cache_read_input_tokens == 0
    again = [*Q, {"role": "assistant", "content": "One."}, {"role": "user", "content": "And then?"}]
    second = await create(client, system=system, cache_control={"type": "ephemeral"}, messages=again)
    assert second.usage.cache_read_input_tokens >= first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens > 0  # the new turn is written for the next
    plain = await create(client, system=LONG_SYSTEM)  # no cache_control: nothing cached or read
    assert (plain.usage.cache_creation_input_tokens, plain.usage.cache_read_input_tokens) == (0, 0)
    assert plain.usage.input_tokens > 512


async def test_a_short_prefix_is_not_cached(client, replay):
    replay.enqueue(text_turn("One."))
    reply = await create(client, cache_control={"type": "ephemeral"})
    assert reply.usage.cache_creation_input_tokens == 0 and reply.usage.input_tokens > 0


async def test_models_api_lists_current_models(client, replay):
    ids = [m.id async for m in client.models.list()]
    assert ids[0] == "claude-sonnet-5-5"
    assert {"claude-opus-5-5", "claude-haiku-5-5"} <= set(ids)
    assert not {"claude-sonnet-4-5", "claude-opus-4-1"} & set(ids)


async def test_resuming_a_pause_turn_is_not_prefill(client, replay):
    replay.enqueue(text_turn("Found it."))
    paused = [{"type": "text", "text": "Let me look that up."},
              {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "AAPL"}}]
    reply = await create(client, messages=[*Q, {"role": "assistant", "content": paused}])
    assert reply.content[0].text == "Found it."
