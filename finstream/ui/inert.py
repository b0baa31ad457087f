"""Text from the model or a filing, made inert for Streamlit's Markdown (and Markdown exports).

Streamlit renders Markdown with GitHub's extensions: ``![](http://host/x.png)`` is fetched the
moment it is shown (a zero-click way to send a filing's contents to another host), ``[a](url)``,
``<http://...>``, bare ``https://...``, ``www.host`` and ``name@host.com`` become links, ``$...$``
becomes math, ``:red[...]`` and ``:material/...:`` become directives. Two levels:

- :func:`md_escape` for labels (filenames, titles, errors, questions): every Markdown character is
  escaped, so the text shows exactly as typed.
- :func:`md_inert` for answer text, which is Markdown on purpose: emphasis, lists, headings, tables
  and code stay; images, links, autolinks, HTML, math and directives do not. Autolinks need an
  invisible word joiner (see WJ below), since GFM finds them after escapes. It is local (each
  character's escape depends on at most the one before it), so a stream escaped chunk by chunk,
  with :class:`InertStream` carrying that one character over, equals the whole text escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:@&=\"'%])")
# Answer text: what makes a link, an image, HTML, math or a directive.
_INERT = re.compile(r"([\\\[\]<>$:@])")
# GFM's autolink literals are found in the text *after* Markdown escapes are resolved, so
# escaping cannot stop them: an invisible WORD JOINER (U+2060) goes where they need two
# characters side by side ("https:" + "//", "www" + ".", "name@" + "host").
WJ = "\u2060"
_JOIN_AFTER = re.compile(r"([:@])")
_WWW_DOT = re.compile(r"(?<=[wW])\.")


def _unlink(text: str, prev: str = "") -> str:
    out = _JOIN_AFTER.sub(r"\1" + WJ, text)
    out = _WWW_DOT.sub(WJ + ".", out)
    if prev in ("w", "W") and out.startswith("."):
        out = WJ + out
    return out


def md_escape(text: Any) -> str:
    """Text shown literally inside Markdown: no links, images, emphasis, HTML or directives."""
    return _MD_SPECIAL.sub(r"\\\1", _unlink(str(text if text is not None else "")))


def md_inert(text: str, prev: str = "") -> str:
    """Answer Markdown with nothing active in it. ``prev``: the character just before ``text``
    (for a stream)."""
    return _INERT.sub(r"\\\1", _unlink(text, prev))


class InertStream:
    """md_inert over a stream of chunks (what ``st.write_stream`` is fed)."""

    def __init__(self) -> None:
        self.prev = ""

    def __call__(self, chunk: str) -> str:
        out = md_inert(chunk, self.prev)
        if chunk:
            self.prev = chunk[-1]
        return out

    def over(self, chunks: Iterable[str]) -> Iterator[str]:
        for chunk in chunks:
            yield self(chunk)
