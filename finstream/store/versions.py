"""Versions of an exchange: a question edited and asked again, or its answer regenerated.

Asking again appends a new (question, answer) pair whose user message ``replaces`` the earlier
question; nothing is overwritten, so every earlier version stays readable. An exchange is the
chain of those pairs, shown at the place of its first question; its latest pair is current, and
only current pairs go back to the model as history. Pure functions over the stored messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from finstream.store.records import Message


@dataclass
class Pair:
    question: Message | None
    answer: Message | None


@dataclass
class Thread:
    """One exchange with all its versions, oldest first (the last is the current one)."""

    root: str  # id of the first question (or of a lone answer)
    versions: list[Pair] = field(default_factory=list)

    @property
    def current(self) -> Pair:
        return self.versions[-1]


def pairs(messages: list[Message]) -> list[Pair]:
    """Questions with the answer that follows each, in stored order."""
    out: list[Pair] = []
    pending: Message | None = None
    for m in messages:
        if m.role == "user":
            if pending is not None:
                out.append(Pair(pending, None))
            pending = m
            continue
        out.append(Pair(pending, m))
        pending = None
    if pending is not None:
        out.append(Pair(pending, None))
    return out


def threads(messages: list[Message]) -> list[Thread]:
    """The conversation's exchanges in the order first asked, each with its versions."""
    root_of: dict[str, str] = {}
    by_root: dict[str, Thread] = {}
    order: list[Thread] = []
    for pair in pairs(messages):
        q = pair.question
        if q is not None and q.replaces and q.replaces in root_of:
            root = root_of[q.replaces]
        else:
            root = q.id if q is not None else pair.answer.id  # type: ignore[union-attr]
        if q is not None:
            root_of[q.id] = root
        thread = by_root.get(root)
        if thread is None:
            thread = by_root[root] = Thread(root)
            order.append(thread)
        thread.versions.append(pair)
    return order


def history_pairs(messages: list[Message], *, before_root: str | None = None) -> list[Pair]:
    """The current pair of each exchange (before ``before_root`` when given): the model's history."""
    out = []
    for thread in threads(messages):
        if thread.root == before_root:
            break
        out.append(thread.current)
    return out


def root_of(messages: list[Message], message_id: str) -> str | None:
    """The exchange a question or answer belongs to."""
    for thread in threads(messages):
        for pair in thread.versions:
            if any(m is not None and m.id == message_id for m in (pair.question, pair.answer)):
                return thread.root
    return None
