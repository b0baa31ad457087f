"""The store's half for the API transcript: every message finstream sent to or got from Claude,
content blocks exactly as they were (see finstream/transcript.py for why and how it is used).

Append-only rows numbered per conversation; a mixin of Store (it uses Store's connection helpers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from finstream.store import schema as t
from finstream.store.common import StoreParts

_NEXT_IDX = sa.select(sa.func.coalesce(sa.func.max(t.api_messages.c.idx), 0) + 1).where(
    t.api_messages.c.conversation_id == sa.bindparam("cid")
)
_INSERT = t.api_messages.insert()
_ANY = sa.select(sa.literal(1)).where(t.api_messages.c.conversation_id == sa.bindparam("cid")).limit(1)
_ROWS = (
    sa.select(t.api_messages)
    .where(t.api_messages.c.conversation_id == sa.bindparam("cid"))
    .order_by(t.api_messages.c.idx)
)


@dataclass(frozen=True)
class ApiMessage:
    idx: int
    message_id: str  # the assistant message (or the question) this row belongs to
    role: str
    content: Any  # a string or a list of content blocks, as sent or received
    meta: dict[str, Any] = field(default_factory=dict)  # model, system key, text_end


class TranscriptMixin(StoreParts):
    def append_api_messages(
        self,
        conversation_id: str,
        message_id: str,
        messages: list[dict[str, Any]],
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Append messages ({"role", "content"}) to the conversation's transcript, in order."""
        if not messages:
            return
        with self._write() as conn:
            first = conn.execute(_NEXT_IDX, {"cid": conversation_id}).scalar_one()
            conn.execute(_INSERT, [
                {"conversation_id": conversation_id, "idx": first + i, "message_id": message_id,
                 "role": m["role"], "content": m["content"], "meta": meta or {}}
                for i, m in enumerate(messages)
            ])

    def has_api_messages(self, conversation_id: str) -> bool:
        """Whether the conversation has a transcript (without reading it)."""
        with self._read() as conn:
            return conn.execute(_ANY, {"cid": conversation_id}).first() is not None

    def api_messages(self, conversation_id: str) -> list[ApiMessage]:
        with self._read() as conn:
            return [
                ApiMessage(r["idx"], r["message_id"], r["role"], r["content"], r["meta"] or {})
                for r in conn.execute(_ROWS, {"cid": conversation_id}).mappings()
            ]
