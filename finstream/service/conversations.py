"""A conversation or an answer that must exist, the message streaming in a conversation, and
deleting a conversation without pulling it from under a run."""

from __future__ import annotations

from typing import Protocol

from finstream.runs.options import RunOptions
from finstream.service.errors import Busy, NotFound
from finstream.store import AsyncStore, Conversation, Message, NotFoundError

TITLE_MAX_CHARS = 300


class Runs(Protocol):
    """What the service needs of a run manager (finstream.runs.RunManager)."""

    async def start(self, conversation_id: str, question: str, options: RunOptions | None = None) -> str: ...

    async def continue_message(self, conversation_id: str, message_id: str,
                               options: RunOptions | None = None) -> str: ...

    async def ask_again(self, conversation_id: str, message_id: str, question: str | None = None,
                        options: RunOptions | None = None) -> str: ...

    async def stop(self, conversation_id: str, *, reason: str = "stopped") -> bool: ...

    def active_message(self, conversation_id: str) -> str | None: ...


def conversation_not_found(conversation_id: str) -> NotFound:
    return NotFound(f"conversation {conversation_id}: not found")


async def require_conversation(store: AsyncStore, conversation_id: str) -> Conversation:
    conv = await store.run(store.sync.get_conversation, conversation_id)
    if conv is None:
        raise conversation_not_found(conversation_id)
    return conv


async def require_answer(store: AsyncStore, conversation_id: str, message_id: str) -> Message:
    """The assistant message ``message_id`` of this conversation (a question, or another
    conversation's answer, is not found)."""
    msg = await store.run(store.sync.get_message, message_id)
    if msg is None or msg.conversation_id != conversation_id or msg.role != "assistant":
        raise NotFound(f"message {message_id}: no such answer in conversation {conversation_id}")
    return msg


async def active_message(runs: Runs, store: AsyncStore, conversation_id: str) -> str | None:
    """The message a run streams into: this process's run, or one in another process (the store
    holds its claim), so every replica can follow it."""
    local = runs.active_message(conversation_id)
    if local is not None:
        return local
    conv = await store.run(store.sync.get_conversation, conversation_id)
    return conv.active_message_id if conv is not None else None


async def rename(store: AsyncStore, conversation_id: str, title: str) -> Conversation:
    try:
        return await store.run(store.sync.rename_conversation, conversation_id, title[:TITLE_MAX_CHARS])
    except NotFoundError as exc:
        raise NotFound(str(exc)) from None


async def delete(runs: Runs, store: AsyncStore, conversation_id: str) -> bool:
    """Delete a conversation with everything in it. A run streaming here is stopped first; one
    streaming on another replica cannot be, so the delete is refused (Busy) until it ends."""
    conv = await require_conversation(store, conversation_id)
    if conv.active_message_id is not None or runs.active_message(conversation_id) is not None:
        if not await runs.stop(conversation_id) and (
                await require_conversation(store, conversation_id)).active_message_id is not None:
            raise Busy(f"conversation {conversation_id}: an answer is streaming on another replica; "
                       "stop it first", message_id=conv.active_message_id)
    return await store.run(store.sync.delete_conversation, conversation_id)
