"""Scripted replies that cite search results: text blocks that stream ``citations_delta`` events.

The scripts name only which search result of the request is cited (``search_result_index``, the
block range); the strict replay fills in ``source``, ``title`` and ``cited_text`` from the request
as the API does (replay_strict.fill_citation), so a citation only arrives when finstream really
sent that passage as a search_result block with citations enabled.

The stream has the API's shape for a cited answer: the text is split into blocks; a cited block
opens empty, its ``citations_delta`` events come first, then the text it supports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay_scripts import (  # noqa: E402
    BLOCK_FRAMES,
    PING,
    Block,
    BlockFrames,
    Reply,
    block_frames,
    ev,
    message_end,
    message_start,
    split_text,
    stream_reply,
)

Ref = tuple[int, int, int]  # (search_result_index, start_block_index, end_block_index)
# Blocks: ("text", text) | ("cited", text, [refs]) | ("thinking", text) | ("tool", name, raw, id)


def cite(n: int, start: int = 0, end: int | None = None) -> dict[str, Any]:
    """What a script says of a citation; the server writes the rest."""
    return {"type": "search_result_location", "search_result_index": n, "start_block_index": start,
            "end_block_index": start + 1 if end is None else end}


def cited_block(index: int, text: str, refs: list[Ref]) -> list[bytes]:
    frames = [ev({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})]
    for n, start, end in refs:
        delta = {"type": "citations_delta", "citation": cite(n, start, end)}
        frames.append(ev({"type": "content_block_delta", "index": index, "delta": delta}))
    for piece in split_text(text):
        frames.append(ev({"type": "content_block_delta", "index": index,
                          "delta": {"type": "text_delta", "text": piece}}))
    frames.append(ev({"type": "content_block_stop", "index": index}))
    return frames


# Text streams as the API streams a cited answer's text: a block that opens empty.
CITED_FRAMES: dict[str, BlockFrames] = {
    **BLOCK_FRAMES,
    "text": lambda index, block: cited_block(index, block[1], []),
    "cited": lambda index, block: cited_block(index, block[1], [tuple(r) for r in block[2]]),
}


def cited_turn(blocks: list[Block], *, delay: float = 0.0) -> Reply:
    """One message of plain, cited, thinking and tool_use blocks in the given order."""
    frames = [message_start(), PING, *block_frames(blocks, CITED_FRAMES)]
    tools = sum(1 for block in blocks if block[0] == "tool")
    frames += message_end("tool_use" if tools else "end_turn", 20 + 10 * len(blocks))
    return stream_reply(frames, delay=delay, name="cited_turn")


# --- a deterministic analyst that searches the filing and cites what it found --------------------

CITED_QUERY = "net sales decreased percent"
CITED_PLAN = "The user asks why sales fell; the press release's text says, so search it."
CITED_INTRO = "Buckle's sales fell in the quarter."
CITED_CLAIM = " The press release puts the decline in its own words"
CITED_END = ", and comparable store sales fell as well."


def cited_scenario(request: Any, *, delay: float = 0.0) -> Reply:
    """First a search_filing call; once its result comes back, an answer whose middle sentence
    cites the first search result (and the next clause the second, when there is one)."""
    messages = request.messages
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last.get("content"), list) else []
    results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
    if last.get("role") == "user" and results:
        return cited_turn([
            ("text", CITED_INTRO),
            ("cited", CITED_CLAIM, [(0, 0, 1)]),
            ("cited", CITED_END, [(1, 0, 1)]),
        ], delay=delay)
    raw = json.dumps({"query": CITED_QUERY, "limit": 2})
    return cited_turn([("thinking", CITED_PLAN), ("tool", "search_filing", raw, f"toolu_cited_{len(messages):03d}")],
                      delay=delay)
