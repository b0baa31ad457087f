"""The conversation column: questions, answers (stored or streaming), and their actions.

A stored answer and a live one render through the same pieces, so a finished stream looks exactly
like the history it becomes on the next rerun. Answer text is Markdown from the model: Streamlit
renders it without raw HTML, and md_inert leaves no image, link, autolink or math active in it
(finstream/ui/inert.py); questions and filing text are shown escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from finstream import events as ev
from finstream.ui import backend
from finstream.ui.artifacts import ArtifactPanel, md_escape
from finstream.ui.inert import InertStream, md_inert
from finstream.ui.session import live_views
from finstream.ui.stream import coalesce, with_heartbeat
from finstream.ui.view import MessageView

TOOL_LABELS = {
    "list_filings": "Listing the filings",
    "search_filing": "Searching the filing text",
    "get_financial_data": "Reading reported figures",
    "get_table": "Reading a table",
    "create_chart": "Drawing a chart",
    "create_table": "Building a table",
    "create_metric": "Adding a metric tile",
}


def tool_label(name: str) -> str:
    return TOOL_LABELS.get(name, f"Running {name}")


def artifact_summary(view: MessageView) -> str:
    counts = []
    for kind, word in (("chart", "chart"), ("table", "table"), ("metric", "metric")):
        n = len(view.by_kind(kind))
        if n:
            counts.append(f"{n} {word}{'s' if n > 1 else ''}")
    return ", ".join(counts)


def render_question(text: str) -> None:
    with st.chat_message("user", avatar=":material/person:"):
        st.markdown(md_escape(text))


def render_tools_done(view: MessageView) -> None:
    if not view.tools:
        return
    failed = [t for t in view.tools.values() if t.state == "error"]
    label = f"Used {len(view.tools)} tool call{'s' if len(view.tools) > 1 else ''}"
    with st.status(label, state="error" if failed and not view.success else "complete", expanded=False):
        for step in view.tools.values():
            mark = ":material/check:" if step.state == "done" else ":material/close:"
            line = f"{mark} {tool_label(step.name)}"
            if step.error:
                line += f" — {md_escape(step.error)}"
            st.markdown(line)


def render_outcome(
    view: MessageView,
    conversation_id: str,
    *,
    on_continue: Callable[..., Any] | None = None,
    on_retry: Callable[..., Any] | None = None,
) -> None:
    """The end of an answer: a clear error or incomplete note, with Continue and Retry."""
    state = view.state
    if state == "complete" or state == "streaming":
        summary = artifact_summary(view)
        if summary and state == "complete":
            st.caption(f":material/dashboard: {summary} in the panel")
        return
    if view.error:
        st.error(f"**{md_escape(view.error.get('code', 'error'))}**: {md_escape(view.error.get('message', ''))}",
                 icon=":material/error:")
    elif state == "stopped":
        st.warning("You stopped this answer.", icon=":material/stop_circle:")
    elif view.stop_reason == "interrupted":
        st.warning("The server stopped while this answer was being written.", icon=":material/warning:")
    elif state == "incomplete":
        st.warning("This answer is incomplete.", icon=":material/warning:")
    else:
        st.error(f"The answer did not complete ({md_escape(view.stop_reason or 'unknown reason')}).",
                 icon=":material/error:")
    if on_continue is None and on_retry is None:
        return
    with st.container(horizontal=True, gap="small"):
        if view.can_continue and on_continue is not None:
            st.button("Continue", key=f"continue-{view.message_id}", icon=":material/play_arrow:",
                      on_click=on_continue, args=(conversation_id, view.message_id))
        if view.can_retry and on_retry is not None and view.question:
            st.button("Retry", key=f"retry-{view.message_id}", icon=":material/refresh:",
                      on_click=on_retry, args=(conversation_id, view.question))


def render_answer(view: MessageView, conversation_id: str, **actions: Any) -> None:
    with st.chat_message("assistant", avatar=":material/query_stats:"):
        render_tools_done(view)
        if view.text:
            st.markdown(md_inert(view.text))  # Markdown kept; images, links and HTML inert
        render_outcome(view, conversation_id, **actions)


class LiveStatus:
    """Tool progress of a streaming answer in one ``st.status``, created on the first tool call."""

    def __init__(self, slot: Any) -> None:
        self.slot = slot
        self.box: Any = None
        self.count = 0

    def _ensure(self) -> Any:
        if self.box is None:
            with self.slot:
                self.box = st.status("Working…", state="running", expanded=False)
        return self.box

    def on_event(self, event: ev.Event) -> None:
        if event.type == "tool_start":
            box = self._ensure()
            self.count += 1
            box.update(label=f"{tool_label(event.tool_name)}…", state="running")
        elif event.type == "tool_complete":
            box = self._ensure()
            mark = ":material/check:" if not event.error else ":material/close:"
            line = f"{mark} {tool_label(event.tool_name)}"
            if event.error:
                line += f" — {md_escape(event.error)}"
            box.markdown(line)
        elif event.type == "status":
            self._ensure().markdown(f":material/info: {md_escape(event.message)}")
        elif event.type == "message_complete" and self.box is not None:
            label = f"Used {self.count} tool call{'s' if self.count != 1 else ''}"
            self.box.update(label=label, state="complete" if event.success else "error")


def render_live(
    conversation_id: str,
    message_id: str,
    question: str,
    chat_box: Any,
    panel_slot: Any,
    *,
    on_stop: Callable[..., Any],
    kinds: set[str] | None = None,
) -> MessageView:
    """Stream a running answer into the page, resuming from what this tab already showed.

    The view is cached in session state and updated in place while events arrive, so if a widget
    click or a page switch kills this script run mid-stream, the next run redraws the text and
    artifacts at once and tails the log only after the last seq it holds.
    """
    cache = live_views()
    view: MessageView = cache.get(message_id) or MessageView(message_id=message_id, question=question)
    cache[message_id] = view
    with panel_slot:
        _panel_header(question, live=True)
        panel = ArtifactPanel(kinds=kinds)
        panel.extend(view.artifacts)
    with chat_box, st.chat_message("assistant", avatar=":material/query_stats:"):
        st.button("Stop", key=f"stop-{message_id}", icon=":material/stop_circle:",
                  on_click=on_stop, args=(conversation_id,), type="secondary")
        status = LiveStatus(st.container())
        for step in view.tools.values():  # replay progress already seen
            status.on_event(ev.ToolStart(message_id=message_id, tool_id=step.tool_id, tool_name=step.name))
        prefix = view.text

        def on_event(event: ev.Event) -> None:
            if event.type in ev.ARTIFACT_TYPES and view.artifacts:
                panel.add(view.artifacts[-1])
            status.on_event(event)

        def tick() -> None:
            # Touching session state is a Streamlit yield point: a pending rerun or stop takes
            # effect here even while the run is quiet.
            st.session_state["_live_seq"] = view.last_seq

        def chunks() -> Any:
            if prefix:
                yield prefix
            events = with_heartbeat(backend.tail(conversation_id, view.last_seq, message_id))
            yield from coalesce(events, view, on_event, on_tick=tick)

        # Escaped chunk by chunk exactly as render_answer escapes the whole text.
        st.write_stream(InertStream().over(chunks()), cursor="▌")
    return view


def _panel_header(question: str, *, live: bool = False) -> None:
    text = md_escape(question[:120] + ("…" if len(question) > 120 else "")) if question else "Answer"
    st.markdown(f"{':material/radio_button_checked: ' if live else ''}**{text}**")
