"""Citations as footnotes: a marker [n] after the sentence each citation supports, and the notes
(filing, section or page, the quoted passage) below the answer, each a link to its passage on the
Documents page (ui/deeplinks.py). Quotes are filing text: escaped.

The markers go into the answer's text before it is escaped (``annotate``), so they show as
literal "[n]" and the text around them stays inert; the spans of the unverified-number marks
(ui/verification.py) are moved past the markers inserted before them.
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
    quote = " ".join(str(c.get("quoted_text") or "").split())
    if len(quote) > QUOTE_CHARS:
        quote = quote[:QUOTE_CHARS] + "…"
    return " · ".join(str(x) for x in (c.get("filing"), where) if x) + f": “{quote}”"


def placements(text: str, citations: list[dict[str, Any]]) -> list[tuple[int, int, dict[str, Any]]]:
    """(where the marker goes, footnote number, citation), numbered in text order: a marker goes
    at the end of the sentence in which the cited text begins (before a line break)."""
    ordered = sorted(citations, key=lambda c: (int(c.get("text_offset") or 0), int(c.get("index") or 0)))
    out = []
    for n, c in enumerate(ordered, start=1):
        at = _end_of_sentence(text, min(max(int(c.get("text_offset") or 0), 0), len(text)))
        if at and text[at - 1] == "\n":
            at -= 1
        out.append((at, n, c))
    return out


def footnotes(text: str, citations: list[dict[str, Any]], escape: Any) -> tuple[str, list[str]]:
    """(text with [n] markers, one escaped note per citation), markers placed in text order."""
    marked, notes = _insert(text, placements(text, citations))
    return marked, [f"[{n}] " + escape(note_line(c)) for n, c in notes]


def _insert(text: str, places: list[tuple[int, int, dict[str, Any]]]) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    out, pos = [], 0
    for at, n, _c in places:
        out += [text[pos:at], f"[{n}]"]
        pos = at
    out.append(text[pos:])
    return "".join(out), [(n, c) for _at, n, c in places]


def shifted_checks(checks: list[dict[str, Any]], places: list[tuple[int, int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The checks with their spans moved past the markers inserted at or before them."""
    out = []
    for c in checks:
        span = c.get("span")
        if not span:
            out.append(c)
            continue
        start, end = span
        shift = sum(len(f"[{n}]") for at, n, _c in places if at <= start)
        out.append({**c, "span": [start + shift, end + shift]})
    return out


def annotate(text: str, checks: list[dict[str, Any]], citations: list[dict[str, Any]],
             escape: Any) -> tuple[str, list[str], list[tuple[str, dict[str, Any]]]]:
    """The answer's Markdown with footnote markers and unverified numbers marked, the numbers'
    notes, and the footnotes as (plain label, citation) for the page to link and escape."""
    from finstream.ui.verification import mark_text

    places = placements(text, citations)
    marked, notes = _insert(text, places)
    markdown, check_notes = mark_text(marked, shifted_checks(checks, places), escape)
    return markdown, check_notes, [(f"[{n}] {note_line(c)}", c) for n, c in notes]
