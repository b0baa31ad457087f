"""The check of a finished answer's text, as the agent loop runs it before message_complete."""

from __future__ import annotations

from typing import Any

from finstream.verify.context import index_for
from finstream.verify.model import NumberCheck
from finstream.verify.numbers import find_numbers
from finstream.verify.text import check_text


def can_check(ctx: Any) -> bool:
    """False when the answer has no filings and no tool results: there is nothing its numbers
    could be checked against, so ``check_answer`` would return None. Cheap (no index is built, no
    text is read), so the agent loop asks it before it hands the check to a thread."""
    return bool(getattr(ctx, "filings", None) or getattr(ctx, "results", None))


def check_answer(text: str, ctx: Any) -> list[NumberCheck] | None:
    """Checks of every number in text against the answer's facts.

    None when the text has no numbers, or when there is nothing to check them against (no filing
    facts and no data tool results): then no verification event is sent and nothing is marked.
    """
    if not text or not can_check(ctx) or not find_numbers(text):
        return None
    index = index_for(ctx)
    if not index.has_facts():
        return None
    return check_text(text, index)
