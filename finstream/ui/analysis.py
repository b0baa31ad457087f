"""The analysis page: chat on the left, each answer's charts, tables and metrics on the right.

Order of work in one script run: read the chat input (its value, files included, is gone on the
next rerun, so uploads are stored at once), start a run if a question came, draw the stored
history, then tail the live run (if any) into the page through ``st.write_stream``. The run itself
lives in the runtime's thread: a rerun, a page switch or a reload only re-attaches to it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import streamlit as st

from finstream.settings import get_settings
from finstream.ui import backend, chat, chrome
from finstream.ui.artifacts import ArtifactPanel, md_escape
from finstream.ui.session import current_conversation, live_views, new_conversation, select

UPLOAD_TYPES = backend.ACCEPTED_TYPES
SUGGESTIONS = [
    "What is the revenue trend?",
    "How have margins changed?",
    "Compare net income across periods",
    "What does the balance sheet show?",
]
PANEL_HEIGHT = 500
WATCH_EVERY = 2.0  # seconds between checks for runs started elsewhere, while the tab is idle
PANEL_FILTERS = {"All": None, "Metrics": {"metric"}, "Charts": {"chart"}, "Tables": {"table"}}


def panel_kinds() -> set[str] | None:
    return PANEL_FILTERS.get(st.session_state.get("panel-filter") or "All")


# ---------------------------------------------------------------- callbacks (run before the script)


QUEUE = "_queued"  # session state: {conversation_id: [questions typed while an answer streamed]}


def queued(conversation_id: str) -> list[str]:
    return st.session_state.setdefault(QUEUE, {}).setdefault(conversation_id, [])


def _unqueue(conversation_id: str, index: int) -> None:
    items = queued(conversation_id)
    if 0 <= index < len(items):
        items.pop(index)


def _start(conversation_id: str, question: str, *, queue: bool = True) -> None:
    """Ask now; while an answer streams, queue the question (asked when that answer ends)."""
    question = (question or "").strip()
    if not question:
        return
    try:
        backend.start_run(conversation_id, question, chrome.run_options(conversation_id))
    except backend.Busy:
        if queue:
            queued(conversation_id).append(question)
        else:
            st.session_state["_notice"] = "An answer is still streaming here; stop it or wait for it."
        return
    except backend.Refused as exc:  # a question the API refuses too (over the length limit)
        st.session_state["_notice"] = exc.message
        return
    conversation = backend.get_conversation(conversation_id)
    if conversation is not None and not conversation.title:
        backend.rename_conversation(conversation_id, question[:80])


def _continue(conversation_id: str, message_id: str) -> None:
    try:
        backend.continue_run(conversation_id, message_id, chrome.run_options(conversation_id))
    except backend.Busy:
        st.session_state["_notice"] = "An answer is still streaming here; stop it or wait for it."


def _retry(conversation_id: str, question: str) -> None:
    _start(conversation_id, question)


def _ask_again(conversation_id: str, message_id: str, question: str | None = None) -> None:
    """Regenerate (question None) or ask an edited question: a new version of the exchange."""
    try:
        backend.ask_again(conversation_id, message_id, question, chrome.run_options(conversation_id))
    except backend.Busy:
        st.session_state["_notice"] = "An answer is still streaming here; stop it or wait for it first."


def _show_version(root: str, index: int) -> None:
    st.session_state.setdefault("_versions", {})[root] = index


def _remove_document(document_id: str) -> None:
    backend.delete_document(document_id)


def _ask_next(conversation_id: str) -> None:
    """The streaming answer ended: ask the first queued question."""
    items = queued(conversation_id)
    while items and not backend.active_message(conversation_id):
        question = items.pop(0)
        try:
            backend.start_run(conversation_id, question, chrome.run_options(conversation_id))
            return
        except backend.Busy:
            items.insert(0, question)
            return


def _stop(conversation_id: str) -> None:
    backend.stop_run(conversation_id)


def _suggest(conversation_id: str) -> None:
    question = st.session_state.get("_suggestion")
    st.session_state["_suggestion"] = None
    if question:
        _start(conversation_id, question)


def _new() -> None:
    select(new_conversation())
    live_views().clear()


# ---------------------------------------------------------------- pieces


@st.fragment(run_every=WATCH_EVERY)
def watch_for_changes(conversation_id: str, seen_seq: int) -> None:
    """While this tab is idle, notice a run started elsewhere (another tab, the API, another
    replica) or anything new in the log, and redraw the page to follow it."""
    if backend.last_seq(conversation_id) != seen_seq or backend.active_message(conversation_id):
        st.rerun(scope="app")


def store_uploads(conversation_id: str, files: list[Any]) -> None:
    """Persist and parse uploads at once, with progress; name every file that fails and why."""
    if not files:
        return
    failed = []
    total = len(files)
    with st.status(f"Reading {total} file{'s' if total > 1 else ''}…", expanded=True) as box:
        bar = st.progress(0.0, text=f"0 of {total} files read")
        for i, upload in enumerate(files, start=1):
            line = st.empty()
            line.markdown(f":material/hourglass_top: {md_escape(upload.name)} — reading ({i} of {total})")
            box.update(label=f"Reading {md_escape(upload.name)} ({i} of {total})…")
            try:
                info = backend.ingest_upload(conversation_id, upload.name, upload.getvalue())
                error = info.error
            except Exception as exc:  # the gateway names the file; keep the other files going
                error = exc.message if isinstance(exc, backend.Refused) else str(exc)
            if error:
                failed.append(backend.failure_message(upload.name, error))
                line.markdown(f":red[:material/close:] {md_escape(upload.name)} — could not be read")
            else:
                line.markdown(f":green[:material/check:] {md_escape(upload.name)} — ready")
            bar.progress(i / total, text=f"{i} of {total} files read")
        if failed:
            box.update(label=f"{len(files) - len(failed)} of {len(files)} files read", state="error")
        else:
            box.update(label=f"{len(files)} file{'s' if len(files) > 1 else ''} ready", state="complete",
                       expanded=False)
    for message in failed:
        st.error(md_escape(message), icon=":material/error:")


def render_documents(conversation_id: str) -> None:
    """The conversation's files as chips; failed ones in red with their reason on hover."""
    docs = backend.list_documents(conversation_id)
    if not docs:
        st.caption("No filings yet: upload a 10-K, 10-Q, XBRL, companyfacts JSON, PDF, CSV or Excel "
                   "file with the + button in the question box below.")
        return
    with st.container(horizontal=True, gap="small"):
        for doc in docs:
            if doc.ok:
                st.badge(md_escape(doc.filename), icon=":material/description:", color="blue")
            else:
                st.badge(md_escape(doc.filename), icon=":material/error:", color="red", help=md_escape(doc.error))
    for doc in docs:
        if not doc.ok:
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                st.caption(f":red[:material/error:] {md_escape(doc.error)}")
                st.button("Remove", key=f"remove-doc-{doc.id}", icon=":material/delete:", type="tertiary",
                          on_click=_remove_document, args=(doc.id,),
                          help=f"Remove {doc.filename} from this conversation")


def render_suggestions(conversation_id: str) -> None:
    st.markdown("**Try a question about the sample filing, Apple Inc.'s SEC companyfacts "
                "(apple-companyfacts-CIK0000320193.json):**")
    st.pills("Suggested questions", SUGGESTIONS, key="_suggestion", label_visibility="collapsed",
             on_change=_suggest, args=(conversation_id,))


def render_markdown_download(conversation_id: str, title: str, exchanges: list[backend.Exchange]) -> None:
    from finstream.ui.exports import conversation_markdown

    turns: list[tuple[str, Any]] = []
    for ex in exchanges:
        if ex.question is not None:
            turns.append(("user", ex.question.text))
        if ex.answer is not None:
            turns.append(("assistant", ex.answer))

    from finstream.ui.exports import safe_filename

    feedback = {ex.answer.message_id: ex.feedback for ex in exchanges if ex.answer is not None and ex.feedback}
    st.download_button("Markdown",
                       data=lambda: conversation_markdown(title or "finstream conversation", turns, feedback),
                       file_name=safe_filename(title or "finstream", "md", "conversation"), mime="text/markdown",
                       key="download-conversation", on_click="ignore", icon=":material/download:",
                       disabled=not turns, help="The whole conversation with its tables and figures")


def render_queue(conversation_id: str, streaming: bool) -> None:
    """Questions typed while an answer streams, right above the input: asked in turn, or removed."""
    items = queued(conversation_id)
    for i, question in enumerate(items):
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            when = "after the current answer" if streaming else "next"
            st.info(f"Queued, asked {when}: {md_escape(question[:200])}", icon=":material/schedule:")
            st.button("Cancel", key=f"unqueue-{i}-{len(items)}", icon=":material/close:", type="tertiary",
                      on_click=_unqueue, args=(conversation_id, i))


def _shown(ex: backend.Exchange) -> backend.Exchange:
    """The version of an exchange this tab shows: the latest, unless the reader picked another."""
    index = st.session_state.get("_versions", {}).get(ex.root)
    if index is None or not ex.versions or index >= len(ex.versions) or ex.versions[-1].answer is None \
            or ex.versions[-1].answer.state == "streaming":
        return ex
    return ex.versions[index]


# ---------------------------------------------------------------- the page


def render() -> None:
    conversation_id = current_conversation()
    assert conversation_id is not None
    conversation = backend.get_conversation(conversation_id)
    assert conversation is not None  # current_conversation() returns only one that exists

    prompt = st.chat_input(
        "Ask about the filings, or add files with +",
        accept_file="multiple",
        file_type=UPLOAD_TYPES,
        max_upload_size=get_settings().max_upload_mb,
        key="prompt",
    )
    chrome.demo_banner()
    chrome.settings_panel()

    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(f"#### {md_escape(conversation.title or 'New analysis')}")
        st.button("New", icon=":material/add:", on_click=_new, key="new-conversation")

    if prompt is not None:
        files = list(getattr(prompt, "files", None) or [])
        store_uploads(conversation_id, files)
        text = getattr(prompt, "text", prompt if isinstance(prompt, str) else "") or ""
        _start(conversation_id, text)
    notice = st.session_state.pop("_notice", None)
    if notice:
        st.warning(notice, icon=":material/hourglass_top:")

    render_documents(conversation_id)
    if not backend.active_message(conversation_id) and queued(conversation_id):
        _ask_next(conversation_id)
    ok_note = st.session_state.pop("_notice_ok", None)
    if ok_note:
        st.toast(ok_note, icon=":material/check:")
    seen_seq = backend.last_seq(conversation_id)
    exchanges = [_shown(ex) for ex in backend.exchanges(conversation_id)]
    active = backend.active_message(conversation_id)

    left, right = st.columns([3, 2], gap="medium")
    with left:
        chat_box = st.container(height=PANEL_HEIGHT, border=True)
        render_queue(conversation_id, bool(active))
    with right:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.segmented_control("Show", list(PANEL_FILTERS), default="All", key="panel-filter",
                                 label_visibility="collapsed")
            render_markdown_download(conversation_id, conversation.title, exchanges)
        panel_box = st.container(height=PANEL_HEIGHT - 40, border=True)
    with panel_box:
        live_slot = st.container()

    live_question = ""
    with chat_box:
        if not exchanges:
            render_suggestions(conversation_id)
        for ex in exchanges:
            if ex.question is not None:
                qid = ex.question.id
                chat.render_question(
                    ex.question.text, key=qid,
                    edit=None if active else partial(_ask_again, conversation_id, qid),
                )
            if ex.answer is None:
                continue
            if ex.answer.message_id == active or (ex.answer.state == "streaming" and not active):
                live_question = ex.answer.question
                active = ex.answer.message_id
                continue
            index = next((i for i, v in enumerate(ex.versions) if v is ex), 0)
            extras = {
                "feedback": ex.feedback,
                "on_regenerate": None if active else (
                    lambda mid=ex.answer.message_id: _ask_again(conversation_id, mid)),
                "versions": (index, len(ex.versions)),
                "on_version": lambda i, root=ex.root: _show_version(root, i),
            }
            chat.render_answer(ex.answer, conversation_id, extras=extras, on_continue=_continue,
                               on_retry=_retry)
        chat.render_conversation_usage(ex.answer for ex in exchanges if ex.answer is not None)

    with panel_box:
        answered = [ex.answer for ex in exchanges if ex.answer is not None and ex.answer.artifacts]
        if not answered and not active:
            st.caption("Charts, tables and metric tiles appear here as the answer streams.")
        for view in reversed(answered):
            if view.message_id == active:
                continue
            with st.container():
                chat._panel_header(view.question)
                ArtifactPanel(kinds=panel_kinds()).extend(view.artifacts)
                st.divider()

    if active:
        view = chat.render_live(conversation_id, active, live_question, chat_box, live_slot,
                                on_stop=_stop, kinds=panel_kinds())
        if view.done:
            live_views().pop(active, None)
            st.rerun()  # draw it as history, with its Continue/Retry actions
        with chat_box:
            st.info("The answer is still being written elsewhere; it appears here as it is saved.",
                    icon=":material/sync:")
    watch_for_changes(conversation_id, seen_seq)
