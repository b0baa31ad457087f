"""Citations as footnotes: a marker [n] after the sentence each citation supports, and the notes
(filing, section or page, the quoted passage) below the answer. Quotes are filing text: escaped.

Not wired into the page yet: the view would collect ``citation`` events (like ``checks``) and
``chat.render_answer`` would render ``footnotes(view.text, view.citations, md_escape)``.
"""

from __future__ import annotations

import re
from typing import Any

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
QUOTE_CHARS = 240


def _end_of_sentence(text: str, start: int) -> int:
    m = _SENTENCE_END.search(text, start)
    return m.end() if m else len(text)


def note_line(c: dict[str, Any]) -> str:
    where = c.get("section") or (f"page {c['page']}" if c.get("page") else None)
    quote = str(c.get("quoted_text") or "")
    if len(quote) > QUOTE_CHARS:
        quote = quote[:QUOTE_CHARS] + "…"
    return " · ".join(str(x) for x in (c.get("filing"), where) if x) + f": “{quote}”"


def footnotes(text: str, citations: list[dict[str, Any]], escape: Any) -> tuple[str, list[str]]:
    """(text with [n] markers, one note per citation), markers placed in text order."""
    by_index = sorted(citations, key=lambda c: (int(c.get("text_offset") or 0), int(c.get("index") or 0)))
    inserts: list[tuple[int, str]] = []
    notes: list[str] = []
    for n, c in enumerate(by_index, start=1):
        at = _end_of_sentence(text, min(int(c.get("text_offset") or 0), len(text)))
        if at and text[at - 1] == "\n":
            at -= 1
        inserts.append((at, f"[{n}]"))
        notes.append(f"[{n}] " + escape(note_line(c)))
    out, pos = [], 0
    for at, mark in inserts:
        out += [text[pos:at], mark]
        pos = at
    out.append(text[pos:])
    return "".join(out), notes
