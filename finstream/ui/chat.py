"""The conversation column: questions, answers (stored or streaming), and their actions.

A stored answer and a live one render through the same pieces, so a finished stream looks exactly
like the history it becomes on the next rerun. Answer text is Markdown from the model: Streamlit
renders it without raw HTML; questions and filing text are shown escaped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from finstream import events as ev
from finstream.ui import backend
from finstream.ui.artifacts import ArtifactPanel, md_escape
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


def render_reasoning(view: MessageView) -> None:
    """The model's reasoning and its notes between tool calls, folded away (inert text)."""
    if view.reasoning.strip():
        with st.expander("Reasoning", icon=":material/psychology:", expanded=False):
            st.markdown(md_escape(view.reasoning.strip()))


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


def render_answer(view: MessageView, conversation_id: str, **actions: Any) -> None:
    with st.chat_message("assistant", avatar=":material/query_stats:"):
        render_tools_done(view)
        render_reasoning(view)
        if view.text:
            st.markdown(view.text)
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
        if event.type == "thinking_delta":
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
            if event.type in ev.ARTIFACT_TYPES and view.artifacts:
                panel.add(view.artifacts[-1])
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
            yield from coalesce(events, view, on_event, on_tick=tick)

        st.write_stream(chunks(), cursor="▌")
        reasoning.flush()
        used = usage_line(view.usage)
        if view.done and used:
            st.caption(f":material/token: {used}")
    return view


def _panel_header(question: str, *, live: bool = False) -> None:
    text = md_escape(question[:120] + ("…" if len(question) > 120 else "")) if question else "Answer"
    st.markdown(f"{':material/radio_button_checked: ' if live else ''}**{text}**")
