"""Citations from Claude: search_filing results go to the model as ``search_result`` content
blocks with citations enabled, and each ``citations_delta`` of the stream becomes a ``citation``
protocol event naming the filing, section or page and the quoted passage.

Pure functions; the Claude provider calls them at two points:

1. building a request: ``with_search_results(messages)`` turns the tool_result of every
   search_filing call into search_result blocks (other tool results are left as they are);
2. reading the stream: on ``content_block_delta`` whose delta type is ``citations_delta``,
   ``citation_fields(delta.citation, offset=len(text so far), index=n)`` gives the fields of an
   ``events.Citation`` (None for a citation that is not of a search result).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

SCHEME = "finstream://filing/"


def source_of(filing: str, section: str | None = None, page: int | None = None) -> str:
    """A search result's ``source``: the filing and the place in it, as a locator we can parse back."""
    query = urlencode({k: v for k, v in (("section", section), ("page", page)) if v not in (None, "")})
    return SCHEME + quote(filing, safe="") + (f"?{query}" if query else "")


def parse_source(source: str) -> dict[str, Any]:
    """{'filing', 'section', 'page'} from a locator made by source_of (empty filing if it is not one)."""
    if not source.startswith(SCHEME):
        return {"filing": "", "section": None, "page": None}
    path, _, query_text = source[len(SCHEME):].partition("?")
    query = parse_qs(query_text)
    page = query.get("page", [None])[0]
    return {
        "filing": unquote(path),
        "section": query.get("section", [None])[0],
        "page": int(page) if page and page.isdigit() else None,
    }


def search_result_blocks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A search_filing result as search_result blocks, one per passage, citations enabled."""
    blocks = []
    for hit in result.get("results") or []:
        if not isinstance(hit, dict) or not str(hit.get("text") or "").strip():
            continue  # the API refuses a search result without text
        filing = str(hit.get("filing") or "")
        where = hit.get("section") or (f"page {hit['page']}" if hit.get("page") else "text")
        blocks.append({
            "type": "search_result",
            "source": source_of(filing, hit.get("section"), hit.get("page")),
            "title": f"{filing} · {where}",
            "content": [{"type": "text", "text": str(hit.get("text") or "")}],
            "citations": {"enabled": True},
        })
    return blocks


def with_search_results(messages: list[dict[str, Any]], tool_name: str = "search_filing") -> list[dict[str, Any]]:
    """The messages with each successful search_filing tool_result as search_result blocks.

    The input is not changed (a message holding such a result is copied, the others are shared).
    Results that are errors, or not the JSON search_filing returns, stay as they were. The rewrite
    is a pure function of the stored transcript, so every request over the same history sends the
    same blocks (the prompt cache and the citations' ``search_result_index`` stay stable).
    """
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            out.append(message)
            continue
        new_content: list[Any] | None = None
        for k, block in enumerate(content):
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use":
                names[block.get("id", "")] = block.get("name", "")
                continue
            blocks = _result_blocks(block, names, tool_name)
            if blocks:
                if new_content is None:
                    new_content = list(content)
                new_content[k] = {**block, "content": blocks}
        out.append(message if new_content is None else {**message, "content": new_content})
    return out


def _result_blocks(block: dict[str, Any], names: dict[str, str], tool_name: str) -> list[dict[str, Any]]:
    if (block.get("type") != "tool_result" or names.get(block.get("tool_use_id", "")) != tool_name
            or block.get("is_error") or not isinstance(block.get("content"), str)):
        return []
    try:
        result = json.loads(block["content"])
    except json.JSONDecodeError:
        return []
    return search_result_blocks(result) if isinstance(result, dict) else []


def citation_fields(citation: Any, *, offset: int, index: int) -> dict[str, Any] | None:
    """The fields of an ``events.Citation`` for one ``citations_delta`` citation (SDK model or dict)."""
    data = citation.model_dump() if hasattr(citation, "model_dump") else dict(citation)
    if data.get("type") != "search_result_location":
        return None
    where = parse_source(str(data.get("source") or ""))
    return {
        "index": index,
        "filing": where["filing"] or str(data.get("title") or data.get("source") or ""),
        "section": where["section"],
        "page": where["page"],
        "quoted_text": str(data.get("cited_text") or ""),
        "text_offset": offset,
        "source": str(data.get("source") or ""),
    }
