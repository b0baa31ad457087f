"""The one place the pages reach the runtime (store, runs, uploads), so each page stays a layout.

Everything here is synchronous: the runtime owns the asyncio loop in its own thread, and a run
lives there, not in the Streamlit script, which is why a rerun or a reload never stops it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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


# The shipped samples under names that say whose they are (SEC serves them as CIK numbers).
SAMPLE_NAMES = {"CIK0000320193.json": "apple-companyfacts-CIK0000320193.json"}


def preload_samples(conversation_id: str) -> list[Any]:
    """Put the sample filing(s) the project ships into a conversation, so a first run can ask at once."""
    try:
        from finstream.samples import sample_paths
    except ImportError:
        return []
    docs = []
    for path in sample_paths():
        docs.append(ingest_upload(conversation_id, SAMPLE_NAMES.get(path.name, path.name), path.read_bytes()))
    return docs


def delete_document(document_id: str) -> bool:
    return store().delete_document(document_id)


# ---------------------------------------------------------------- runs


def start_run(conversation_id: str, question: str, options: Any = None) -> str:
    """``options``: a RunOptions (this run's model and limits) or None for the settings'."""
    return runtime().start(conversation_id, question, options)


def continue_run(conversation_id: str, message_id: str, options: Any = None) -> str:
    return runtime().continue_message(conversation_id, message_id, options)


def ask_again(conversation_id: str, message_id: str, question: str | None = None, options: Any = None) -> str:
    """Regenerate an answer (question None) or ask an edited question: a new version, the old kept."""
    return runtime().ask_again(conversation_id, message_id, question, options)


def set_feedback(message_id: str, rating: int | None, comment: str = "") -> Any:
    return store().set_feedback(message_id, rating, comment)


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
    imported, or a question whose run has not begun yet), with the exchange's other versions."""

    question: Any | None
    answer: MessageView | None
    versions: list[Exchange] = field(default_factory=list)  # oldest first, this one included
    root: str = ""
    feedback: Any | None = None


def answer_view(message: Any, artifacts: list[Any], question: str = "", steps: Sequence[ev.Event] = ()) -> MessageView:
    """A stored assistant message as the page shows it, with the tool steps, notes and reasoning
    its events logged."""
    view = MessageView(message_id=message.id, text="", question=question)
    for event in steps:
        view.apply(event)
    view.text = message.text or ""
    view.artifacts = [Artifact(a.kind, a.index, a.data, a.message_id, a.seq) for a in artifacts]
    view.last_seq = max([view.last_seq] + [a.seq for a in artifacts])
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
    """The conversation as exchanges, oldest first: each the current version of a question and its
    answer (with artifacts, steps and feedback), holding its earlier versions too."""
    from finstream.store.versions import threads

    st_ = store()
    messages = st_.list_messages(conversation_id)
    by_message: dict[str, list[Any]] = {}
    for art in st_.list_artifacts(conversation_id):
        by_message.setdefault(art.message_id, []).append(art)
    steps = st_.message_steps(conversation_id)
    feedback = st_.list_feedback(conversation_id)
    out: list[Exchange] = []
    for thread in threads(messages):
        versions = []
        for pair in thread.versions:
            answer = None
            if pair.answer is not None:
                question = pair.question.text if pair.question is not None else ""
                answer = answer_view(pair.answer, by_message.get(pair.answer.id, []), question,
                                     steps.get(pair.answer.id, []))
            versions.append(Exchange(pair.question, answer, root=thread.root,
                                     feedback=feedback.get(pair.answer.id) if pair.answer else None))
        for item in versions:
            item.versions = versions
        out.append(versions[-1])
    checks = st_.message_checks([m.id for m in messages if m.role == "assistant"])  # text marks
    cited = st_.message_citations([m.id for m in messages if m.role == "assistant"])  # footnotes
    for ex in out:
        for version in ex.versions or [ex]:
            if version.answer is not None:
                version.answer.checks = checks.get(version.answer.message_id, [])
                version.answer.citations = cited.get(version.answer.message_id, [])
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
