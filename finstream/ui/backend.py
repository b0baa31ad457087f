"""The typed gateway between the pages and the runtime: the only module of finstream/ui (and of
app.py and pages/) that reaches the store or the runs, so each page stays a layout.

Everything here is synchronous: the runtime owns the asyncio loop in its own thread, and a run
lives there, not in the Streamlit script, which is why a rerun or a reload never stops it. The
rules (a question, an upload, the active message, a delete) are finstream/service's, the same
the HTTP API follows; a refusal arrives as a :class:`Refused` (``Busy`` when an answer streams)
whose message the page shows as it is.
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from finstream import events as ev
from finstream.filings.model import Filing
from finstream.runs.options import RunOptions
from finstream.runs.status import ending
from finstream.service import answers, conversations, questions, uploads
from finstream.service.errors import Busy, ServiceError
from finstream.store import Artifact as StoredArtifact
from finstream.store import Conversation, Document, DocumentInfo, Message, ShareLink
from finstream.store.records import Feedback
from finstream.ui.view import Artifact, MessageView

if TYPE_CHECKING:
    from finstream.runs.bridge import Runtime

__all__ = [
    "ACCEPTED_TYPES", "TITLE_MAX_CHARS", "Busy", "Exchange", "Refused", "active_message", "answer_view",
    "ask_again", "citation", "continue_run", "conversation_artifacts", "create_conversation", "delete_conversation",
    "delete_document", "exchanges", "failure_message", "get_conversation", "get_document", "ingest_upload",
    "last_seq", "list_conversations", "list_documents", "list_shares", "parse_options", "preload_samples",
    "rename_conversation", "resolve_share", "revoke_share", "set_feedback", "share_link", "start_run",
    "stop_run", "tail",
]

Refused = ServiceError  # what a shared rule refused; ``.message`` is for the reader
ACCEPTED_TYPES = uploads.ACCEPTED_TYPES  # the upload widget's file types
TITLE_MAX_CHARS = conversations.TITLE_MAX_CHARS
failure_message = uploads.failure_message  # the line naming a failed upload and why
parse_options = questions.parse_options  # a run's options, Refused naming the field (as the API)
T = TypeVar("T")


def _rt() -> Runtime:
    from finstream.runs.bridge import get_runtime

    return get_runtime()


def _call(coro: Coroutine[Any, Any, T]) -> T:
    """Run a service coroutine on the runtime's loop (where the store and the runs live)."""
    return _rt().call(coro)


async def _parse(filename: str, data: bytes) -> Filing:
    from finstream.filings.sandbox import get_pool

    # Parsed in a bounded worker process (memory, CPU time; see filings/sandbox.py).
    return await get_pool(_rt().settings).aparse(filename, data)


# ---------------------------------------------------------------- conversations


def create_conversation(title: str = "") -> Conversation:
    return _rt().store.create_conversation(title)


def get_conversation(conversation_id: str | None) -> Conversation | None:
    if not conversation_id:
        return None
    return _rt().store.get_conversation(conversation_id)


def list_conversations(limit: int = 200) -> list[Conversation]:
    return _rt().store.list_conversations(limit=limit)


def rename_conversation(conversation_id: str, title: str) -> Conversation:
    rt = _rt()
    return _call(conversations.rename(rt.astore, conversation_id, title))


def delete_conversation(conversation_id: str) -> bool:
    """Delete it with everything in it; a run streaming here is stopped first. Busy when an
    answer streams on another replica (it cannot be stopped from here)."""
    rt = _rt()
    return _call(conversations.delete(rt.runs, rt.astore, conversation_id))


# ---------------------------------------------------------------- documents


def list_documents(conversation_id: str) -> list[DocumentInfo]:
    return _rt().store.list_documents(conversation_id)


def get_document(document_id: str) -> Document | None:
    return _rt().store.get_document(document_id)


def citation(conversation_id: str, message_id: str, seq: int) -> dict[str, Any] | None:
    """The citation event at ``seq`` of an answer in this conversation (None for another
    conversation's message: a footnote link cannot open a passage it does not own)."""
    st_ = _rt().store
    message = st_.get_message(message_id)
    if message is None or message.conversation_id != conversation_id:
        return None
    cited = st_.message_citations([message_id]).get(message_id, [])
    return next((c for c in cited if c.get("seq") == seq), None)


def ingest_upload(conversation_id: str, filename: str, data: bytes) -> DocumentInfo:
    """Parse and store one upload; a file that cannot be read is stored with its reason
    (``.error``). Refused (TooLarge) over the upload limit, as the API refuses it."""
    rt = _rt()
    uploads.check_size(filename, len(data), rt.settings.max_upload_mb * 1024 * 1024)
    return _call(uploads.store_upload(rt.astore, _parse, conversation_id, filename, data))


def preload_samples(conversation_id: str) -> list[DocumentInfo]:
    """Put the sample filing(s) the project ships into a conversation, so a first run can ask at once."""
    return _call(uploads.preload_samples(_rt().astore, _parse, conversation_id))


def delete_document(document_id: str) -> bool:
    return _rt().store.delete_document(document_id)


# ---------------------------------------------------------------- runs


def start_run(conversation_id: str, question: str, options: RunOptions | None = None) -> str:
    """Ask ``question`` (``options``: this run's model and limits, None for the settings');
    returns the answer's message id. Busy while another answer streams here; Refused for a
    question the API would refuse too (empty, over the limit)."""
    rt = _rt()
    message_id, _ = _call(answers.start(rt.runs, rt.astore, conversation_id, question, options))
    return message_id


def continue_run(conversation_id: str, message_id: str, options: RunOptions | None = None) -> str:
    rt = _rt()
    _call(answers.continue_answer(rt.runs, rt.astore, conversation_id, message_id, options))
    return message_id


def ask_again(conversation_id: str, message_id: str, question: str | None = None,
              options: RunOptions | None = None) -> str:
    """Regenerate an answer (question None) or ask an edited question: a new version, the old kept."""
    rt = _rt()
    new_id, _ = _call(answers.ask_again(rt.runs, rt.astore, conversation_id, message_id, question, options))
    return new_id


def set_feedback(message_id: str, rating: int | None, comment: str = "") -> Feedback | None:
    """Thumbs up (1) / down (0) / cleared (None) on an answer, checked to be one (as the API does)."""
    rt = _rt()
    message = rt.store.get_message(message_id)
    conversation_id = message.conversation_id if message is not None else ""
    return _call(answers.rate(rt.astore, conversation_id, message_id, rating, comment))


def stop_run(conversation_id: str) -> bool:
    rt = _rt()
    return _call(answers.stop(rt.runs, rt.astore, conversation_id))


def active_message(conversation_id: str) -> str | None:
    """The message a run streams into: this process's run, or one in another process (the store
    holds the claim), so a second replica can follow it too."""
    rt = _rt()
    return _call(conversations.active_message(rt.runs, rt.astore, conversation_id))


def tail(conversation_id: str, after_seq: int, message_id: str | None) -> Iterator[ev.Event]:
    # accumulated_text is not needed here (the page keeps its own text) and costs work per delta.
    return _rt().iter_tail(conversation_id, after_seq, message_id=message_id, accumulated=False)


def last_seq(conversation_id: str) -> int:
    return _rt().store.last_seq(conversation_id)


# ---------------------------------------------------------------- history


@dataclass
class Exchange:
    """A question and its answer (either may be missing: a conversation can start with an answer
    imported, or a question whose run has not begun yet), with the exchange's other versions."""

    question: Message | None
    answer: MessageView | None
    versions: list[Exchange] = field(default_factory=list)  # oldest first, this one included
    root: str = ""
    feedback: Feedback | None = None


def _artifact(a: StoredArtifact) -> Artifact:
    return Artifact(a.kind, a.index, a.data, a.message_id, a.seq)


def answer_view(message: Message, artifacts: list[StoredArtifact], question: str = "",
                steps: Sequence[ev.Event] = ()) -> MessageView:
    """A stored assistant message as the page shows it, with the tool steps, notes and reasoning
    its events logged."""
    view = MessageView(message_id=message.id, text="", question=question)
    for event in steps:
        view.apply(event)
    view.text = message.text or ""
    view.artifacts = [_artifact(a) for a in artifacts]
    view.last_seq = max([view.last_seq] + [a.seq for a in artifacts])
    if message.status != "streaming":
        view.done = True
        view.success, view.stop_reason = ending(message.status, message.stop_reason)
        view.error = message.error
        view.usage = message.usage or {}
    return view


def exchanges(conversation_id: str) -> list[Exchange]:
    """The conversation as exchanges, oldest first: each the current version of a question and its
    answer (with artifacts, steps and feedback), holding its earlier versions too."""
    from finstream.store.versions import threads

    st_ = _rt().store
    messages = st_.list_messages(conversation_id)
    by_message: dict[str, list[StoredArtifact]] = {}
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


def conversation_artifacts(conversation_id: str) -> list[Artifact]:
    """Every chart, table and metric of the conversation, in the order they were made."""
    return [_artifact(a) for a in _rt().store.list_artifacts(conversation_id)]


# ---------------------------------------------------------------- share links


def share_link(conversation_id: str) -> ShareLink:
    return _rt().store.create_share_link(conversation_id)


def resolve_share(token: str) -> Conversation | None:
    if not token:
        return None
    return _rt().store.resolve_share_link(token)


def revoke_share(token: str) -> bool:
    return _rt().store.revoke_share_link(token)


def list_shares(conversation_id: str) -> list[ShareLink]:
    return _rt().store.list_share_links(conversation_id)
