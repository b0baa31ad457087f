"""Finding a quoted passage in a filing, for the Documents page to highlight it.

A citation quotes a search_filing passage (cut at PASSAGE_CHARS with "…"); the passage stands in
one of the filing's sections. ``find_passage`` looks in the section the citation names first, and
compares whitespace-insensitively (parsers and the model's quote may wrap lines differently). For
a PDF, ``pdf_page_png`` renders the cited page and boxes the passage where its words are found on
the page (pdfplumber's word positions); where they are not, the page is shown without a box.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from typing import Any

CONTEXT_CHARS = 600
SEARCH_WORDS = 12  # enough words to place a passage, few enough to survive a line wrap


def _core(quote: str) -> str:
    return " ".join(quote.strip().removesuffix("…").split())


def _pattern(text: str, words: int | None = None) -> re.Pattern[str] | None:
    parts = text.split()[:words] if words else text.split()
    if not parts:
        return None
    return re.compile(r"\s+".join(re.escape(p) for p in parts))


def find_passage(filing: Any, section: str | None, page: int | None, quote: str) -> tuple[Any, int, int] | None:
    """(section, start, end) of the quoted passage in the filing's text, or None."""
    core = _core(quote)
    pattern = _pattern(core)
    if pattern is None:
        return None
    named = [s for s in filing.sections if (section and s.title == section) or (page and s.page == page)]
    for candidate in [*named, *(s for s in filing.sections if s not in named)]:
        m = pattern.search(candidate.text)
        if m:
            return candidate, m.start(), m.end()
    return None


def window(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> tuple[str, str, str]:
    """(before, passage, after) around a passage, whitespace folded (the page escapes them)."""
    lo, hi = max(0, start - context), min(len(text), end + context)
    before = ("… " if lo else "") + " ".join(text[lo:start].split())
    after = " ".join(text[end:hi].split()) + (" …" if hi < len(text) else "")
    return (before + " " if before else ""), " ".join(text[start:end].split()), (" " + after if after else "")


@lru_cache(maxsize=16)
def pdf_page_png(data: bytes, page: int, quote: str) -> tuple[bytes | None, bool]:
    """(PNG of the PDF's page with the passage boxed, whether it was found on the page)."""
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if not 1 <= page <= len(pdf.pages):
                return None, False
            p = pdf.pages[page - 1]
            image = p.to_image(resolution=96)
            boxes = _boxes(p, _core(quote))
            if boxes:
                image.draw_rects(boxes, stroke=(230, 120, 0), fill=(255, 200, 0, 70), stroke_width=2)
            out = io.BytesIO()
            image.original.save(out, format="PNG") if not boxes else image.annotated.save(out, format="PNG")
            return out.getvalue(), bool(boxes)
    except Exception:  # a PDF pdfplumber cannot render: the text is still shown
        return None, False


def _boxes(page: Any, core: str) -> list[dict[str, float]]:
    """The boxes of the passage's words on the page: its first words, found in the page's text."""
    for words in (None, SEARCH_WORDS, 6):
        pattern = _pattern(core, words)
        if pattern is None:
            return []
        try:
            found = page.search(pattern, regex=True)
        except Exception:
            found = []
        if found:
            return [{"x0": f["x0"], "top": f["top"], "x1": f["x1"], "bottom": f["bottom"]} for f in found[:1]]
    return []
