"""The async store: every method of the protocols in store/protocols.py, written out, each
running the sync ``Store`` call on a small dedicated thread pool.

A dedicated pool (not asyncio's default one) keeps database waits from starving other blocking
work, and bounds the connections a process opens. ``sync`` is the Store itself (for code that
needs the engine, e.g. the readiness probe or the LISTEN connection); ``run`` runs any sync
callable on the pool, ``submit`` hands it over without waiting (the group committer's
multi-batch transaction).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from finstream import events as ev
from finstream.filings.model import Filing
from finstream.store.records import (
    Artifact,
    Conversation,
    DocumentInfo,
    Feedback,
    Message,
    MessagePatch,
    ShareLink,
    Turn,
)
from finstream.store.store import Store
from finstream.store.transcript import ApiMessage

if TYPE_CHECKING:
    from finstream.store.protocols import ApiStore, RunStore

T = TypeVar("T")


class AsyncStore:
    """Implements Conversations, Documents, Answers, Shares, EventLog and Transcript
    (store/protocols.py) over a sync Store."""

    def __init__(self, store: Store, *, max_workers: int = 4) -> None:
        self.sync = store
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="finstream-db")
        self.closed = False

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """``fn`` on the pool, as a concurrent Future (``run`` without awaiting it: a caller that
        is cancelled can still wait for a call that has started)."""
        return self._pool.submit(fn, *args, **kwargs)

    def close(self) -> None:
        self.closed = True
        self._pool.shutdown(wait=True)
        self.sync.close()

    # ------------------------------------------------------------ Conversations

    async def create_conversation(self, title: str = "") -> Conversation:
        return await self.run(self.sync.create_conversation, title)

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        return await self.run(self.sync.get_conversation, conversation_id)

    async def list_conversations(self, *, limit: int = 100, offset: int = 0) -> list[Conversation]:
        return await self.run(self.sync.list_conversations, limit=limit, offset=offset)

    async def rename_conversation(self, conversation_id: str, title: str) -> Conversation:
        return await self.run(self.sync.rename_conversation, conversation_id, title)

    async def delete_conversation(self, conversation_id: str) -> bool:
        return await self.run(self.sync.delete_conversation, conversation_id)

    async def get_message(self, message_id: str) -> Message | None:
        return await self.run(self.sync.get_message, message_id)

    async def list_messages(self, conversation_id: str) -> list[Message]:
        return await self.run(self.sync.list_messages, conversation_id)

    # ------------------------------------------------------------ Documents

    async def add_document(self, conversation_id: str, filename: str, data: bytes, *,
                           filing: Filing | None = None, error: str | None = None) -> DocumentInfo:
        return await self.run(self.sync.add_document, conversation_id, filename, data,
                              filing=filing, error=error)

    async def list_documents(self, conversation_id: str) -> list[DocumentInfo]:
        return await self.run(self.sync.list_documents, conversation_id)

    async def filings(self, conversation_id: str) -> list[Filing]:
        return await self.run(self.sync.filings, conversation_id)

    # ------------------------------------------------------------ Answers

    async def list_artifacts(self, conversation_id: str) -> list[Artifact]:
        return await self.run(self.sync.list_artifacts, conversation_id)

    async def message_artifacts(self, message_id: str) -> list[Artifact]:
        return await self.run(self.sync.message_artifacts, message_id)

    async def message_checks(self, message_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        return await self.run(self.sync.message_checks, message_ids)

    async def message_citations(self, message_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        return await self.run(self.sync.message_citations, message_ids)

    async def set_feedback(self, message_id: str, rating: int | None,
                           comment: str = "") -> Feedback | None:
        return await self.run(self.sync.set_feedback, message_id, rating, comment)

    async def list_feedback(self, conversation_id: str) -> dict[str, Feedback]:
        return await self.run(self.sync.list_feedback, conversation_id)

    # ------------------------------------------------------------ Shares

    async def create_share_link(self, conversation_id: str) -> ShareLink:
        return await self.run(self.sync.create_share_link, conversation_id)

    async def resolve_share_link(self, token: str) -> Conversation | None:
        return await self.run(self.sync.resolve_share_link, token)

    async def revoke_share_link(self, token: str) -> bool:
        return await self.run(self.sync.revoke_share_link, token)

    async def list_share_links(self, conversation_id: str) -> list[ShareLink]:
        return await self.run(self.sync.list_share_links, conversation_id)

    # ------------------------------------------------------------ EventLog

    async def begin_turn(self, conversation_id: str, question: str | None, *,
                         continue_message_id: str | None = None, owner: str = "",
                         replaces: str | None = None) -> Turn:
        return await self.run(self.sync.begin_turn, conversation_id, question,
                              continue_message_id=continue_message_id, owner=owner,
                              replaces=replaces)

    async def append_batch(self, conversation_id: str, events: Sequence[ev.Event], *,
                           message_id: str | None = None, patch: MessagePatch | None = None) -> None:
        await self.run(self.sync.append_batch, conversation_id, events, message_id=message_id,
                       patch=patch)

    async def read_events(self, conversation_id: str, after_seq: int = 0, limit: int = 1000, *,
                          before_seq: int | None = None) -> list[ev.Event]:
        return await self.run(self.sync.read_events, conversation_id, after_seq, limit,
                              before_seq=before_seq)

    async def last_seq(self, conversation_id: str, *, message_id: str | None = None) -> int:
        return await self.run(self.sync.last_seq, conversation_id, message_id=message_id)

    async def message_text_before(self, conversation_id: str, message_id: str, seq: int) -> str:
        return await self.run(self.sync.message_text_before, conversation_id, message_id, seq)

    async def heartbeat(self, message_ids: Sequence[str]) -> None:
        await self.run(self.sync.heartbeat, message_ids)

    async def mark_streaming_interrupted(self, *, is_dead: Callable[[str], bool] | None = None,
                                         stale_after: float | None = None) -> list[str]:
        return await self.run(self.sync.mark_streaming_interrupted, is_dead=is_dead,
                              stale_after=stale_after)

    # ------------------------------------------------------------ Transcript

    async def append_api_messages(self, conversation_id: str, message_id: str,
                                  messages: list[dict[str, Any]],
                                  meta: dict[str, Any] | None = None) -> None:
        await self.run(self.sync.append_api_messages, conversation_id, message_id, messages, meta)

    async def api_messages(self, conversation_id: str) -> list[ApiMessage]:
        return await self.run(self.sync.api_messages, conversation_id)


if TYPE_CHECKING:  # mypy checks that the adapter implements every protocol

    def _implements(store: AsyncStore) -> tuple[RunStore, ApiStore]:
        return store, store
