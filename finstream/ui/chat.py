"""The conversation column: questions, answers (stored or streaming), and their actions.

A stored answer and a live one render through the same pieces, so a finished stream looks exactly
like the history it becomes on the next rerun. Answer text is Markdown from the model: Streamlit
renders it without raw HTML, and md_inert leaves no image, link, autolink or math active in it
(finstream/ui/inert.py); questions and filing text are shown escaped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from finstream import events as ev
from finstream.artifacts import KINDS
from finstream.tools import tool_label
from finstream.ui import backend
from finstream.ui.artifacts import ArtifactPanel, md_escape
from finstream.ui.deeplinks import footnote_link
from finstream.ui.footnotes import annotate
from finstream.ui.inert import InertStream, md_inert
from finstream.ui.session import live_views
from finstream.ui.stream import coalesce, with_heartbeat
from finstream.ui.verification import render_text_notes
from finstream.ui.view import MessageView


def artifact_summary(view: MessageView) -> str:
    counts = []
    for kind in KINDS:
        n = len(view.by_kind(kind))
        if n:
            counts.append(f"{n} {kind}{'s' if n > 1 else ''}")
    return ", ".join(counts)


def usage_line(usage: dict[str, Any] | None, *, label: str = "") -> str:
    """Tokens and estimated cost, e.g. "12,400 tokens in (11,900 from cache) · 310 out · $0.0041"."""
    if not usage:
        return ""
    read = int(usage.get("cache_read_input_tokens") or 0)
    written = int(usage.get("cache_creation_input_tokens") or 0)
    total_in = int(usage.get("input_tokens") or 0) + read + written
    out = int(usage.get("output_tokens") or 0)
    if not total_in and not out:
        return ""
    cached = f" ({read:,} from cache)" if read else ""
    cost = usage.get("cost_usd")
    price = f" · ${cost:,.4f}" if isinstance(cost, (int, float)) else " · no cost estimate"
    return f"{label}{total_in:,} tokens in{cached} · {out:,} out{price}"


def total_usage(usages: Iterable[dict[str, Any] | None]) -> dict[str, Any]:
    """A conversation's usage: the answers' summed (cost unknown if any answer's is)."""
    total: dict[str, Any] = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                             "cache_read_input_tokens": 0, "cost_usd": 0.0}
    for u in usages:
        if not u:
            continue
        for name in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            total[name] += int(u.get(name) or 0)
        cost = u.get("cost_usd")
        total["cost_usd"] = total["cost_usd"] + cost if isinstance(cost, (int, float)) and \
            total["cost_usd"] is not None else None
    return total


def render_conversation_usage(views: Iterable[MessageView | None]) -> None:
    line = usage_line(total_usage(v.usage for v in views if v is not None), label="This conversation: ")
    if line:
        st.caption(f":material/token: {line}")


def render_question(text: str, *, edit: Callable[[str], Any] | None = None, key: str = "") -> None:
    """A question; with ``edit``, a popover to change it and ask again (a new version)."""
    with st.chat_message("user", avatar=":material/person:"):
        st.markdown(md_escape(text))
        if edit is not None and key:
            with st.popover("Edit", icon=":material/edit:", type="tertiary", key=f"edit-pop-{key}"):
                st.text_area("Edit the question", value=text, key=f"edit-text-{key}", max_chars=4000)
                st.button("Ask again", key=f"edit-ask-{key}", icon=":material/send:", type="primary",
                          on_click=lambda: edit(st.session_state.get(f"edit-text-{key}") or text))


def render_reasoning_done(view: MessageView) -> None:
    """A past answer's reasoning and notes between tool calls, from its event log."""
    if not view.reasoning.strip() and not view.notes:
        return
    with st.expander("Reasoning", icon=":material/psychology:"):
        if view.reasoning.strip():
            st.text(view.reasoning.strip()[:20000])  # model text: shown as plain text
        for note in view.notes:
            st.caption(f":material/info: {md_escape(note)}")


def _save_feedback(message_id: str, key: str) -> None:
    rating = st.session_state.get(f"fb-{key}")
    comment = st.session_state.get(f"fb-comment-{key}") or ""
    backend.set_feedback(message_id, rating, comment)
    st.session_state["_notice_ok"] = "Thanks: your feedback is saved." if rating is not None else None


def render_actions(
    view: MessageView,
    *,
    feedback: Any = None,
    on_regenerate: Callable[[], Any] | None = None,
    versions: tuple[int, int] | None = None,
    on_version: Callable[[int], Any] | None = None,
) -> None:
    """Under a finished answer: thumbs up/down with an optional comment, regenerate, and the
    arrows between the versions of this exchange."""
    key = view.message_id
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        if versions is not None and versions[1] > 1 and on_version is not None:
            index, count = versions
            st.button("", icon=":material/chevron_left:", key=f"ver-prev-{key}", type="tertiary",
                      disabled=index == 0, on_click=on_version, args=(index - 1,), help="Earlier version")
            st.caption(f"Version {index + 1} of {count}")
            st.button("", icon=":material/chevron_right:", key=f"ver-next-{key}", type="tertiary",
                      disabled=index == count - 1, on_click=on_version, args=(index + 1,), help="Later version")
        if view.done:
            if f"fb-{key}" not in st.session_state and feedback is not None:
                st.session_state[f"fb-{key}"] = feedback.rating
            st.feedback("thumbs", key=f"fb-{key}", on_change=_save_feedback, args=(view.message_id, key))
            with st.popover("", icon=":material/comment:", type="tertiary", key=f"fb-pop-{key}",
                            help="Add a comment to your rating"):
                if f"fb-comment-{key}" not in st.session_state and feedback is not None:
                    st.session_state[f"fb-comment-{key}"] = feedback.comment
                st.text_area("Comment (optional)", key=f"fb-comment-{key}", max_chars=4000)
                st.button("Save", key=f"fb-save-{key}", on_click=_save_feedback, args=(view.message_id, key))
        if on_regenerate is not None and view.done:
            st.button("Regenerate", key=f"regen-{key}", icon=":material/autorenew:", type="tertiary",
                      on_click=on_regenerate, help="Answer again; this version stays reachable")


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
    used = usage_line(view.usage)
    if used and state != "streaming":
        st.caption(f":material/token: {used}")
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


def render_answer(view: MessageView, conversation_id: str, *, extras: dict[str, Any] | None = None,
                  **actions: Any) -> None:
    """A stored answer: its tool steps and reasoning (from the log), text, outcome, and with
    ``extras`` (render_actions' arguments) the feedback, regenerate and version controls."""
    with st.chat_message("assistant", avatar=":material/query_stats:"):
        render_tools_done(view)
        render_reasoning_done(view)
        if view.text:
            # Inert; unverified numbers marked; [n] after the sentences that cite a passage.
            text, notes, cited = annotate(view.text, view.checks, view.citations, md_inert)
            st.markdown(text)
            render_text_notes(notes, md_escape)
            render_footnotes(view, cited)
        render_outcome(view, conversation_id, **actions)
        if extras is not None:
            render_actions(view, **extras)


def render_footnotes(view: MessageView, cited: list[tuple[str, dict[str, Any]]]) -> None:
    """The answer's footnotes, each a link to its passage on the Documents page."""
    if not cited:
        return
    with st.container(gap="small", key=f"footnotes-{view.message_id}"):
        for label, citation in cited:
            footnote_link(label, view.message_id, int(citation.get("seq") or 0))


class LiveStatus:
    """Tool progress of a streaming answer in one ``st.status``, created on the first tool call."""

    def __init__(self, slot: Any) -> None:
        self.slot = slot
        self.box: Any = None
        self.count = 0
        self.writing = False  # text came after the last tool: the label says so

    def _ensure(self) -> Any:
        if self.box is None:
            with self.slot:
                self.box = st.status("Working…", state="running", expanded=False)
        return self.box

    def on_event(self, event: ev.Event) -> None:
        match event:
            case ev.ToolStart():
                box = self._ensure()
                self.count += 1
                self.writing = False
                box.update(label=f"{tool_label(event.tool_name)}…", state="running")
            case ev.ToolComplete():
                box = self._ensure()
                mark = ":material/check:" if not event.error else ":material/close:"
                line = f"{mark} {tool_label(event.tool_name)}"
                if event.error:
                    line += f" — {md_escape(event.error)}"
                box.markdown(line)
            case ev.Status():
                self._ensure().markdown(f":material/info: {md_escape(event.message)}")
            case ev.TextDelta() if self.box is not None and not self.writing:
                self.writing = True
                self.box.update(label="Writing the answer…", state="running")
            case ev.MessageComplete() if self.box is not None:
                label = f"Used {self.count} tool call{'s' if self.count != 1 else ''}"
                self.box.update(label=label, state="complete" if event.success else "error")


class LiveReasoning:
    """The reasoning of a streaming answer in an open "Reasoning" expander, created on the first
    thinking_delta and redrawn at most every ``interval`` seconds (each redraw re-sends the whole
    text, so one per delta would grow with the square of its length)."""

    def __init__(self, slot: Any, *, interval: float = 0.15, text: str = "") -> None:
        self.slot = slot
        self.interval = interval
        self.text = text
        self.box: Any = None
        self.shown = 0.0
        if text.strip():
            self._draw()

    def _draw(self) -> None:
        if self.box is None:
            with self.slot, st.expander("Reasoning", icon=":material/psychology:", expanded=True):
                self.box = st.empty()
        self.box.markdown(md_escape(self.text.strip()))
        self.shown = time.monotonic()

    def on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.ThinkingDelta):
            self.text += event.text
            if self.box is None or time.monotonic() - self.shown >= self.interval:
                self._draw()
        elif self.box is not None and self.text.strip():
            self._draw()  # anything else first shows the reasoning that led to it

    def flush(self) -> None:
        if self.text.strip():
            self._draw()


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
        reasoning = LiveReasoning(st.container(), text=view.reasoning)
        prefix = view.text

        def on_event(event: ev.Event) -> None:
            if isinstance(event, ev.ArtifactEvent):
                panel.add(event.artifact)  # coalesce passes only this message's new events
            status.on_event(event)
            reasoning.on_event(event)

        def tick() -> None:
            # Touching session state is a Streamlit yield point: a pending rerun or stop takes
            # effect here even while the run is quiet.
            st.session_state["_live_seq"] = view.last_seq
            if reasoning.text != reasoning_shown[0]:
                reasoning.flush()  # reasoning that arrived since the last redraw
                reasoning_shown[0] = reasoning.text

        reasoning_shown = [reasoning.text]

        def chunks() -> Any:
            if prefix:
                yield prefix
            events = with_heartbeat(backend.tail(conversation_id, view.last_seq, message_id))
            for chunk in coalesce(events, view, on_event, on_tick=tick):
                # Text after the tools: the status line moves on from the last tool's label.
                status.on_event(ev.TextDelta(message_id=message_id, text=chunk, accumulated_text=None))
                yield chunk

        # Escaped chunk by chunk exactly as render_answer escapes the whole text.
        st.write_stream(InertStream().over(chunks()), cursor="▌")
        reasoning.flush()
        used = usage_line(view.usage)
        if view.done and used:
            st.caption(f":material/token: {used}")
        _text, notes, cited = annotate(view.text, view.checks, view.citations, md_escape)
        render_text_notes(notes, md_escape)
        render_footnotes(view, cited)
    return view


def _panel_header(question: str, *, live: bool = False) -> None:
    text = md_escape(question[:120] + ("…" if len(question) > 120 else "")) if question else "Answer"
    st.markdown(f"{':material/radio_button_checked: ' if live else ''}**{text}**")
