"""The one place the pages reach the runtime (store, runs, uploads), so each page stays a layout.

Everything here is synchronous: the runtime owns the asyncio loop in its own thread, and a run
lives there, not in the Streamlit script, which is why a rerun or a reload never stops it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from finstream import events as ev
from finstream.ui.view import Artifact, MessageView


def runtime() -> Any:
    from finstream.runtime import get_runtime

    return get_runtime()


def store() -> Any:
    return runtime().store


# ---------------------------------------------------------------- conversations


def create_conversation(title: str = "") -> Any:
    return store().create_conversation(title)


def get_conversation(conversation_id: str | None) -> Any | None:
    if not conversation_id:
        return None
    return store().get_conversation(conversation_id)


def list_conversations(limit: int = 200) -> list[Any]:
    return store().list_conversations(limit=limit)


def rename_conversation(conversation_id: str, title: str) -> Any:
    return store().rename_conversation(conversation_id, title)


def delete_conversation(conversation_id: str) -> bool:
    rt = runtime()
    if active_message(conversation_id):
        rt.call(rt.runs.stop(conversation_id))
    return rt.store.delete_conversation(conversation_id)


# ---------------------------------------------------------------- documents


def list_documents(conversation_id: str) -> list[Any]:
    return store().list_documents(conversation_id)


def get_document(document_id: str) -> Any | None:
    return store().get_document(document_id)


def ingest_upload(conversation_id: str, filename: str, data: bytes) -> Any:
    """Parse and store one upload; a file that cannot be read is stored with its reason."""
    return runtime().ingest_upload(conversation_id, filename, data)


def preload_samples(conversation_id: str) -> list[Any]:
    """Put the sample filing(s) the project ships into a conversation, so a first run can ask at once."""
    try:
        from finstream.samples import sample_paths
    except ImportError:
        return []
    docs = []
    for path in sample_paths():
        docs.append(ingest_upload(conversation_id, path.name, path.read_bytes()))
    return docs


# ---------------------------------------------------------------- runs


def start_run(conversation_id: str, question: str, options: Any = None) -> str:
    """``options``: a RunOptions (this run's model and limits) or None for the settings'."""
    return runtime().start(conversation_id, question, options)


def continue_run(conversation_id: str, message_id: str, options: Any = None) -> str:
    return runtime().continue_message(conversation_id, message_id, options)


def stop_run(conversation_id: str) -> bool:
    rt = runtime()
    return rt.call(rt.runs.stop(conversation_id))


def active_message(conversation_id: str) -> str | None:
    """The message a run streams into: this process's run, or one in another process (the store
    holds the claim), so a second replica can follow it too."""
    rt = runtime()
    local = rt.runs.active_message(conversation_id)
    if local:
        return local
    conversation = rt.store.get_conversation(conversation_id)
    return conversation.active_message_id if conversation else None


def tail(conversation_id: str, after_seq: int, message_id: str | None) -> Iterator[ev.Event]:
    # accumulated_text is not needed here (the page keeps its own text) and costs work per delta.
    return runtime().iter_tail(conversation_id, after_seq, message_id=message_id, accumulated=False)


def last_seq(conversation_id: str) -> int:
    return store().last_seq(conversation_id)


def busy_error() -> type[Exception]:
    from finstream.runs import RunBusyError

    return RunBusyError


# ---------------------------------------------------------------- history


@dataclass
class Exchange:
    """A question and its answer (either may be missing: a conversation can start with an answer
    imported, or a question whose run has not begun yet)."""

    question: Any | None
    answer: MessageView | None


def answer_view(message: Any, artifacts: list[Any], question: str = "") -> MessageView:
    """A stored assistant message as the page shows it."""
    view = MessageView(message_id=message.id, text=message.text or "", question=question)
    view.artifacts = [Artifact(a.kind, a.index, a.data, a.message_id, a.seq) for a in artifacts]
    view.last_seq = max((a.seq for a in artifacts), default=0)
    if message.status != "streaming":
        view.done = True
        view.success = message.status == "complete"
        view.stop_reason = message.stop_reason or (
            message.status if message.status in ("stopped", "interrupted") else None
        )
        view.error = message.error
        view.usage = message.usage or {}
    return view


def exchanges(conversation_id: str) -> list[Exchange]:
    """The conversation as question/answer pairs, oldest first, with each answer's artifacts."""
    st_ = store()
    messages = st_.list_messages(conversation_id)
    by_message: dict[str, list[Any]] = {}
    for art in st_.list_artifacts(conversation_id):
        by_message.setdefault(art.message_id, []).append(art)
    out: list[Exchange] = []
    pending: Any | None = None
    for msg in messages:
        if msg.role == "user":
            if pending is not None:
                out.append(Exchange(pending, None))
            pending = msg
            continue
        question = pending.text if pending is not None else ""
        out.append(Exchange(pending, answer_view(msg, by_message.get(msg.id, []), question)))
        pending = None
    if pending is not None:
        out.append(Exchange(pending, None))
    checks = st_.message_checks([m.id for m in messages if m.role == "assistant"])  # text marks
    for ex in out:
        if ex.answer is not None:
            ex.answer.checks = checks.get(ex.answer.message_id, [])
    return out


def share_link(conversation_id: str) -> Any:
    return store().create_share_link(conversation_id)


def resolve_share(token: str) -> Any | None:
    if not token:
        return None
    return store().resolve_share_link(token)


def revoke_share(token: str) -> bool:
    return store().revoke_share_link(token)


def list_shares(conversation_id: str) -> list[Any]:
    return store().list_share_links(conversation_id)
