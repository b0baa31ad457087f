"""Citations through the real SDK and the strict replay: search_filing results go out as
search_result blocks with citations enabled, the stream's citations_delta events become citation
events in order, anchored where the text they support begins, and the cited text blocks go back
to the model exactly as received (the strict server binds a later thinking block's signature to
them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anthropic
import pytest
from replay_citations import (
    CITED_CLAIM,
    CITED_END,
    CITED_INTRO,
    CITED_QUERY,
    cited_scenario,
    cited_turn,
)

from finstream.agent import Turn, run_turn
from finstream.events import json_schema, parse_event
from finstream.filings.ingest import ingest
from finstream.providers.citations import parse_source
from finstream.tools import default_toolbox
from tests.support.filings import FILINGS_DIR

BUCKLE = "BuckleInc.8-K.EX99.1.html"
MODEL = "claude-sonnet-5-5"


@pytest.fixture(scope="module")
def buckle():
    path = Path(FILINGS_DIR) / BUCKLE
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"real filings not found at {FILINGS_DIR}")
        pytest.skip(f"real filings not found at {FILINGS_DIR}")
    return ingest(BUCKLE, path.read_bytes())


async def turn_events(provider, filing, question="Why did Buckle's sales fall?", max_rounds=4):
    recorded: list[dict] = []

    async def record(messages, meta):
        recorded.extend(json.loads(json.dumps(messages)))

    turn = Turn("conv-c", "msg-c", [{"role": "user", "content": question}], filings=[filing])
    events = [e async for e in run_turn(provider, default_toolbox(), turn, max_tokens=2048,
                                        max_rounds=max_rounds, record=record)]
    return events, recorded


def search_blocks(request) -> list[dict]:
    """The search_result blocks of a request's tool results, in order."""
    out = []
    for m in request.messages:
        for b in m["content"] if isinstance(m["content"], list) else []:
            if b.get("type") == "tool_result" and isinstance(b.get("content"), list):
                out += [x for x in b["content"] if x.get("type") == "search_result"]
    return out


async def test_a_cited_answer_gives_citation_events_in_order_at_the_text_they_support(claude, replay, buckle):
    replay.responder = cited_scenario
    events, recorded = await turn_events(claude(), buckle)
    assert events[-1].type == "message_complete" and events[-1].success, events[-3:]

    # The request: search_filing's result went out as search_result blocks, citations on.
    blocks = search_blocks(replay.requests[1])
    assert len(blocks) == 2
    assert all(b["citations"] == {"enabled": True} for b in blocks)
    assert all(parse_source(b["source"])["filing"] == BUCKLE for b in blocks)
    search = next(e for e in events if e.type == "tool_complete" and e.tool_name == "search_filing")
    assert search.input["query"] == CITED_QUERY
    hits = search.result["results"]
    assert [b["content"][0]["text"] for b in blocks] == [h["text"] for h in hits]

    # The events: two citations, in order, each before the text it supports, at its offset.
    cites = [e for e in events if e.type == "citation"]
    assert [c.index for c in cites] == [0, 1]
    assert [c.text_offset for c in cites] == [len(CITED_INTRO), len(CITED_INTRO + CITED_CLAIM)]
    assert [c.quoted_text for c in cites] == [hits[0]["text"], hits[1]["text"]]
    assert [(c.filing, c.section, c.page) for c in cites] == [(BUCKLE, h["section"], h["page"]) for h in hits]
    text = "".join(e.text for e in events if e.type == "text_delta")
    assert text == CITED_INTRO + CITED_CLAIM + CITED_END
    shown, first_claim = 0, None  # the seq of the first delta that reaches past the intro
    for e in events:
        if e.type == "text_delta":
            shown += len(e.text)
            if shown > len(CITED_INTRO):
                first_claim = e.seq
                break
    assert first_claim is not None
    assert cites[0].seq < first_claim
    assert text[cites[1].text_offset:].startswith(CITED_END)
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    # Every citation validates against the published schema and round-trips the protocol.
    import jsonschema

    schema = json_schema()
    for c in cites:
        jsonschema.validate(c.model_dump(mode="json"), schema)
        assert parse_event(c.model_dump_json()) == c

    # The transcript keeps the cited text blocks exactly as the server wrote them.
    answer = recorded[-1]
    assert answer["role"] == "assistant"
    issued_text = [b for b in replay.rules.issued_last if b.get("type") == "text"]
    assert [{k: v for k, v in b.items() if v is not None} for b in answer["content"]] == \
        [{k: v for k, v in b.items() if v is not None} for b in issued_text]
    assert [c["cited_text"] for b in answer["content"] for c in b.get("citations", [])] == \
        [hits[0]["text"], hits[1]["text"]]
    # ... while the stored tool result stays the tool's JSON (the rewrite is per request).
    stored = [b for m in recorded for b in (m["content"] if isinstance(m["content"], list) else [])
              if b.get("type") == "tool_result"]
    assert isinstance(stored[0]["content"], str) and json.loads(stored[0]["content"])["results"]


async def test_cited_text_goes_back_exactly_or_the_next_thinking_block_is_refused(claude, replay, buckle):
    """Round two cites, thinks, and calls a tool; round three sends that assistant turn back. The
    thinking block's signature binds everything before it, the cited text's citations included."""
    calls = {"n": 0}

    def respond(request):
        calls["n"] += 1
        if calls["n"] == 1:
            return cited_scenario(request)
        if calls["n"] == 2:
            return cited_turn([("cited", "Sales fell, the release says.", [(0, 0, 1)]),
                               ("thinking", "Now the list of filings, to name the source."),
                               ("tool", "list_filings", "{}", "toolu_list_1")])
        return cited_turn([("text", " It is the Q3 release.")])

    replay.responder = respond
    events, recorded = await turn_events(claude(), buckle)
    assert events[-1].type == "message_complete" and events[-1].success, [e for e in events if e.type == "error"]
    assert not replay.rejected
    sent = replay.requests[2].messages[-2]["content"]
    assert sent[0]["citations"][0]["type"] == "search_result_location"
    assert [c.text_offset for c in events if c.type == "citation"] == [0]


async def test_without_search_results_a_scripted_citation_cannot_arrive(claude, replay):
    """No search_result in the request: nothing to cite, so no citation event (and no crash)."""
    replay.enqueue(cited_turn([("text", "Revenue rose."), ("cited", " As reported.", [(0, 0, 1)])]))
    turn = Turn("c", "m", [{"role": "user", "content": "Revenue?"}])
    events = [e async for e in run_turn(claude(), default_toolbox(), turn, max_tokens=512)]
    assert events[-1].success
    assert not [e for e in events if e.type == "citation"]


# --- the strict replay's search_result rules, through the SDK ------------------------------------

Q = {"role": "user", "content": "Why did sales fall?"}


def result(text="Net sales decreased 3.2 percent.", **kw):
    return {"type": "search_result", "source": "finstream://filing/b.htm", "title": "b.htm · EX-99.1",
            "content": [{"type": "text", "text": text}], "citations": {"enabled": True}, **kw}


def tool_round(*blocks):
    return [Q, {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "search_filing",
                                                  "input": {"query": "sales"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": list(blocks)}]}]


async def create(replay, messages):
    client = anthropic.AsyncAnthropic(api_key="k", base_url=replay.url, max_retries=0)
    async with client.messages.stream(model=MODEL, max_tokens=256, messages=messages) as stream:
        return await stream.get_final_message()


async def refused(replay, messages) -> str:
    with pytest.raises(anthropic.BadRequestError) as info:
        await create(replay, messages)
    assert replay.rejected
    return str(info.value)


async def test_a_citation_of_a_sent_search_result_carries_its_source_and_text(replay):
    replay.enqueue(cited_turn([("cited", "Sales fell.", [(1, 0, 1)])]))
    reply = await create(replay, tool_round(result("first"), result("second passage")))
    (citation,) = reply.content[0].citations
    assert citation.type == "search_result_location" and citation.search_result_index == 1
    assert citation.cited_text == "second passage" and citation.source == "finstream://filing/b.htm"


async def test_citations_must_be_on_for_all_search_results_or_none(replay):
    off = result(citations={"enabled": False})
    text = await refused(replay, tool_round(result(), off))
    assert "all search results or on none" in text
    # all off is allowed, but then nothing can be cited
    replay.enqueue(cited_turn([("cited", "Sales fell.", [(0, 0, 1)])]))
    reply = await create(replay, tool_round({k: v for k, v in off.items() if k != "citations"}, off))
    assert not reply.content[0].citations


@pytest.mark.parametrize("bad, says", [
    ({"title": None}, "title"),
    ({"content": []}, "non-empty list"),
    ({"content": [{"type": "text", "text": " "}]}, "non-empty"),
    ({"content": [{"type": "image", "source": {}}]}, "only hold text"),
    ({"url": "https://e"}, "Extra inputs"),
    ({"citations": {"enabled": True, "mode": "x"}}, "Extra inputs"),
])
async def test_a_malformed_search_result_is_refused(replay, bad, says):
    block = {k: v for k, v in {**result(), **bad}.items() if v is not None}
    assert says in await refused(replay, tool_round(block))


async def test_search_results_stand_only_in_user_content_and_tool_results(replay):
    assert "only allowed in user messages" in await refused(
        replay, [Q, {"role": "assistant", "content": [result()]}, {"role": "user", "content": "and?"}])
    replay.enqueue(cited_turn([("cited", "Sales fell.", [(0, 0, 1)])]))
    reply = await create(replay, [{"role": "user", "content": [result(), {"type": "text", "text": "Why?"}]}])
    assert reply.content[0].citations[0].cited_text == "Net sales decreased 3.2 percent."


async def test_a_citation_sent_back_must_be_whole(replay):
    cited = {"type": "text", "text": "Sales fell.", "citations": [
        {"type": "search_result_location", "source": "s", "title": None, "cited_text": "x",
         "search_result_index": 0, "start_block_index": 0}]}
    text = await refused(replay, [Q, {"role": "assistant", "content": [cited]}, {"role": "user", "content": "and?"}])
    assert "end_block_index" in text
