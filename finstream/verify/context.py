"""The fact index of one answer, kept on its ToolContext: built once from the filings, then fed
with each tool result as the answer's tools return.

The filings' part (every fact by id and by value) is shared between answers over the same stored
filings (keyed by their store ids), so a conversation pays for it once, not once per answer.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

from finstream.verify.facts import FactIndex, FilingFacts

_KEY = "verify.index"
_SHARED: OrderedDict[tuple, FilingFacts] = OrderedDict()
_SHARED_MAX = 8
_lock = Lock()


def filing_facts(filings: list[Any]) -> FilingFacts:
    """The FilingFacts of these filings, from the shared cache when they are all stored ones."""
    if not filings or not all(getattr(f, "document_id", "") for f in filings):
        return FilingFacts(filings)
    key = tuple((f.document_id, len(f.facts)) for f in filings)
    with _lock:
        found = _SHARED.get(key)
        if found is not None:
            _SHARED.move_to_end(key)
            return found
    built = FilingFacts(filings)
    with _lock:
        _SHARED[key] = built
        while len(_SHARED) > _SHARED_MAX:
            _SHARED.popitem(last=False)
    return built


def index_for(ctx: Any) -> FactIndex:
    """The FactIndex of a ToolContext (``filings``, ``results``, ``cache``), up to date."""
    cache: dict[str, Any] | None = getattr(ctx, "cache", None)
    if cache is None:  # a context without a cache: build a fresh index each time
        fresh = FactIndex(filing_facts(list(getattr(ctx, "filings", []))))
        return fresh.sync(list(getattr(ctx, "results", [])))
    index: FactIndex | None = cache.get(_KEY)
    if index is None:
        index = cache[_KEY] = FactIndex(filing_facts(list(ctx.filings)))
    return index.sync(getattr(ctx, "results", []))
