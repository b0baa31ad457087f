"""The fact index of one answer, kept on its ToolContext: built once from the filings, then fed
with each tool result as the answer's tools return.
"""

from __future__ import annotations

from typing import Any

from finstream.verify.facts import FactIndex

_KEY = "verify.index"


def index_for(ctx: Any) -> FactIndex:
    """The FactIndex of a ToolContext (``filings``, ``results``, ``cache``), up to date."""
    cache: dict[str, Any] = getattr(ctx, "cache", None)
    if cache is None:  # a context without a cache: build a fresh index each time
        index = FactIndex(list(getattr(ctx, "filings", [])))
        return index.sync(list(getattr(ctx, "results", [])))
    index = cache.get(_KEY)
    if index is None:
        index = cache[_KEY] = FactIndex(list(ctx.filings))
    return index.sync(getattr(ctx, "results", []))
