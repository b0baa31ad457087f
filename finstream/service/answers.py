"""Starting, continuing, asking again, stopping and rating answers, with the run manager's
exceptions turned into ServiceErrors (Busy, NotFound, Invalid, NotContinuable).

Each start returns the log's last seq before the run began: a transport tails from there and
so sees the whole answer, whichever loop or replica it tails from.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from finstream.runs.options import RunOptions
from finstream.service import conversations
from finstream.service.conversations import Runs
from finstream.service.errors import Busy, Invalid, NotContinuable, NotFound
from finstream.service.questions import MAX_QUESTION_CHARS, check_question
from finstream.store import AsyncStore, Conversation, ConversationBusyError, NotFoundError, Store
from finstream.store.records import Feedback


@contextmanager
def _refusals(*, value_error: type[Invalid] | type[NotContinuable] = Invalid) -> Iterator[None]:
    try:
        yield
    except ConversationBusyError as exc:  # RunBusyError too (a subclass)
        raise Busy(str(exc), message_id=exc.message_id) from None
    except NotFoundError as exc:
        raise NotFound(str(exc)) from None
    except ValueError as exc:
        raise value_error(str(exc)) from None


async def _floor(store: AsyncStore, conversation_id: str) -> int:
    return await store.run(store.sync.last_seq, conversation_id)


async def _launched(store: AsyncStore, conversation_id: str, launch: Callable[[], Awaitable[str]],
                    value_error: type[Invalid] | type[NotContinuable] = Invalid, *,
                    floor: int | None = None) -> tuple[str, int]:
    if floor is None:
        floor = await _floor(store, conversation_id)
    with _refusals(value_error=value_error):
        message_id = await launch()
    return message_id, floor


def _conversation_and_floor(store: Store, conversation_id: str) -> tuple[Conversation | None, int]:
    return store.get_conversation(conversation_id), store.last_seq(conversation_id)


async def start(runs: Runs, store: AsyncStore, conversation_id: str, question: object,
                options: RunOptions | None = None, *,
                max_chars: int = MAX_QUESTION_CHARS) -> tuple[str, int]:
    """Ask ``question``: (the answer's message id, the seq before its first event)."""
    text = check_question(question, max_chars)
    # Both reads in one trip to the store's thread pool (a stream's set-up makes about ten).
    conv, floor = await store.run(_conversation_and_floor, store.sync, conversation_id)
    if conv is None:
        raise conversations.conversation_not_found(conversation_id)
    return await _launched(store, conversation_id, lambda: runs.start(conversation_id, text, options),
                           floor=floor)


async def continue_answer(runs: Runs, store: AsyncStore, conversation_id: str, message_id: str,
                          options: RunOptions | None = None) -> tuple[str, int]:
    """Continue an unfinished answer into the same message; NotContinuable when it is complete."""
    await conversations.require_answer(store, conversation_id, message_id)
    return await _launched(store, conversation_id,
                           lambda: runs.continue_message(conversation_id, message_id, options),
                           NotContinuable)


async def ask_again(runs: Runs, store: AsyncStore, conversation_id: str, message_id: str,
                    question: str | None = None, options: RunOptions | None = None, *,
                    max_chars: int = MAX_QUESTION_CHARS) -> tuple[str, int]:
    """A new version of an exchange: regenerate its answer (question None) or ask it edited."""
    if question is not None:
        check_question(question, max_chars)
    return await _launched(store, conversation_id,
                           lambda: runs.ask_again(conversation_id, message_id, question, options))


async def stop(runs: Runs, store: AsyncStore, conversation_id: str) -> bool:
    """Stop the answer streaming here; False when none streams in this process."""
    await conversations.require_conversation(store, conversation_id)
    return await runs.stop(conversation_id)


async def rate(store: AsyncStore, conversation_id: str, message_id: str, rating: int | None,
               comment: str = "") -> Feedback | None:
    """Thumbs up (1), down (0) or cleared (None) on one of this conversation's answers."""
    await conversations.require_answer(store, conversation_id, message_id)
    with _refusals():
        return await store.run(store.sync.set_feedback, message_id, rating, comment)
