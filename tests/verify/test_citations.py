"""Citations: search_filing results as Claude's search_result blocks (checked against the SDK's
own types), and citations_delta events mapped, in order, to citation protocol events."""

from __future__ import annotations

import json
import typing

import anthropic.types as at

from finstream.events import Citation, parse_event
from finstream.providers.citations import (
    citation_fields,
    parse_source,
    search_result_blocks,
    source_of,
    with_search_results,
)
from finstream.tools.base import ToolContext
from finstream.tools.data import SearchFilingInput, search_filing

BUCKLE = "BuckleInc.8-K.EX99.1.html"


def buckle_search(filing):
    hits = search_filing(SearchFilingInput(query="net sales decreased percent", limit=2),
                         ToolContext([filing(BUCKLE)]))
    return hits.result


def test_search_results_are_blocks_the_sdk_describes(filing):
    result = buckle_search(filing)
    blocks = search_result_blocks(result)
    assert len(blocks) == len(result["results"]) == 2
    required = at.SearchResultBlockParam.__required_keys__
    allowed = set(typing.get_type_hints(at.SearchResultBlockParam))
    for block, hit in zip(blocks, result["results"], strict=True):
        assert required <= set(block) <= allowed
        assert block["type"] == "search_result" and block["citations"] == {"enabled": True}
        assert block["content"] == [{"type": "text", "text": hit["text"]}]
        assert parse_source(block["source"])["filing"] == BUCKLE
        assert BUCKLE in block["title"]


def test_only_search_filing_results_are_rewritten_and_the_input_is_kept(filing):
    result = buckle_search(filing)
    messages = [
        {"role": "user", "content": "What happened to sales?"},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "t1", "name": "search_filing", "input": {"query": "sales"}},
            {"type": "tool_use", "id": "t2", "name": "get_financial_data", "input": {"metric": "revenue"}},
            {"type": "tool_use", "id": "t3", "name": "search_filing", "input": {"query": "x"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": json.dumps(result)},
            {"type": "tool_result", "tool_use_id": "t2", "content": "{\"points\": []}"},
            {"type": "tool_result", "tool_use_id": "t3", "content": "Error: nothing matches", "is_error": True},
        ]},
    ]
    before = json.dumps(messages)
    out = with_search_results(messages)
    assert json.dumps(messages) == before  # not changed in place
    first, second, third = out[2]["content"]
    assert [b["type"] for b in first["content"]] == ["search_result", "search_result"]
    assert second["content"] == "{\"points\": []}" and third["content"] == "Error: nothing matches"


def test_sources_round_trip_names_with_any_characters():
    for filing, section, page in (("uber_2021.pdf", None, 56), ("a b&c?.htm", "Item 7. MD&A", None),
                                  ("x.htm", None, None)):
        assert parse_source(source_of(filing, section, page)) == {"filing": filing, "section": section,
                                                                  "page": page}
    assert parse_source("https://example.com")["filing"] == ""


def test_citations_delta_events_become_citation_events_in_order():
    deltas = [
        {"type": "citations_delta", "citation": {
            "type": "search_result_location", "cited_text": "Net sales decreased 3.2 percent",
            "search_result_index": 0, "source": source_of(BUCKLE, "EX-99.1"), "title": "t",
            "start_block_index": 0, "end_block_index": 1}},
        {"type": "citations_delta", "citation": {
            "type": "search_result_location", "cited_text": "page text", "search_result_index": 1,
            "source": source_of("uber_2021.pdf", None, 56), "title": None,
            "start_block_index": 0, "end_block_index": 1}},
        {"type": "citations_delta", "citation": {
            "type": "char_location", "cited_text": "x", "document_index": 0, "document_title": None,
            "start_char_index": 0, "end_char_index": 1, "file_id": None}},
    ]
    events, offsets = [], [0, 42, 80]
    for offset, raw in zip(offsets, deltas, strict=True):
        delta = at.CitationsDelta.model_validate(raw)  # the SDK's own parse of the stream's delta
        fields = citation_fields(delta.citation, offset=offset, index=len(events))
        if fields is not None:
            events.append(Citation(seq=10 + len(events), message_id="m", **fields))
    assert [(e.index, e.filing, e.section, e.page, e.text_offset) for e in events] == [
        (0, BUCKLE, "EX-99.1", None, 0), (1, "uber_2021.pdf", None, 56, 42),
    ]
    assert events[0].quoted_text == "Net sales decreased 3.2 percent"
    for e in events:
        assert parse_event(e.model_dump_json()) == e


def test_footnotes_follow_the_sentences_they_support_and_escape_quotes():
    from finstream.ui.artifacts import md_escape
    from finstream.ui.footnotes import footnotes

    text = "Sales fell. Margins held.\nCash rose."
    citations = [
        {"index": 1, "filing": "b.htm", "section": None, "page": 3, "quoted_text": "![x](http://e)",
         "text_offset": 12},
        {"index": 0, "filing": "b.htm", "section": "EX-99.1", "page": None, "quoted_text": "fell 3.2%",
         "text_offset": 0},
    ]
    marked, notes = footnotes(text, citations, md_escape)
    assert marked == "Sales fell.[1] Margins held.[2]\nCash rose."
    assert notes[0] == "[1] " + md_escape("b.htm · EX-99.1: “fell 3.2%”")
    assert "\\!\\[x\\]\\(http" in notes[1]  # a quoted image is inert text


def test_markers_and_unverified_marks_together_keep_their_places():
    """A footnote marker inserted before an unverified number moves the number's span with it."""
    from finstream.ui.footnotes import annotate
    from finstream.ui.inert import md_inert

    text = "Sales fell 3.2%. Net income was $412.3B in FY2024."
    start = text.index("$412.3B")
    checks = [{"status": "unverified", "span": [start, start + 7], "text": "$412.3B", "reason": "no fact"}]
    cites = [{"index": 0, "filing": "b.htm", "section": "EX-99.1", "page": None,
              "quoted_text": "[x](http://e) fell", "text_offset": 0}]
    markdown, notes, cited = annotate(text, checks, cites, md_inert)
    assert markdown == (md_inert("Sales fell 3.2%.[1] Net income was ") + ":red-background["
                        + md_inert("$412.3B") + "⚠1]" + md_inert(" in FY2024."))
    assert notes == ["[1] $412.3B: no fact"]
    assert cited == [("[1] b.htm · EX-99.1: “[x](http://e) fell”", cites[0])]  # plain: the link escapes it
