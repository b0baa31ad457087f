"""What the page shows of one assistant message, folded from its protocol events.

The same fold serves the live stream (event by event, as the tailer delivers them) and a message
replayed from the event log after a rerun or a reload, so both render identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finstream import events as ev
from finstream.artifacts import Artifact, ArtifactKind

# Stop reasons after which the partial answer can be picked up where it ended.
CONTINUABLE = {"max_tokens", "incomplete", "stopped", "interrupted", "error", "max_rounds",
               "model_context_window_exceeded"}


@dataclass
class ToolStep:
    tool_id: str
    name: str
    state: str = "running"  # running | done | error
    error: str | None = None


@dataclass
class MessageView:
    message_id: str
    role: str = "assistant"
    text: str = ""
    artifacts: list[Artifact] = field(default_factory=list)
    tools: dict[str, ToolStep] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reasoning: str = ""  # the model's thinking and notes between tool calls (thinking_delta)
    error: dict[str, Any] | None = None
    done: bool = False
    success: bool | None = None
    stop_reason: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    last_seq: int = 0
    question: str = ""  # the user question this message answers, for titles and retries
    checks: list[dict[str, Any]] = field(default_factory=list)  # the text's numbers, checked (issue 14)
    citations: list[dict[str, Any]] = field(default_factory=list)  # passages the text cites (footnotes)

    def apply(self, event: ev.Event) -> None:
        """Fold one event in. Events at or before ``last_seq`` are ignored (a resumed tail may
        overlap what was already shown)."""
        if event.seq and event.seq <= self.last_seq:
            return
        self.last_seq = max(self.last_seq, event.seq)
        if event.message_id != self.message_id:
            return  # an earlier message's event replayed by the tail: only moves the cursor
        match event:
            case ev.TextDelta():
                self.text += event.text
            case ev.ThinkingDelta():
                self.reasoning += event.text
            case ev.ToolStart():
                self.tools[event.tool_id] = ToolStep(event.tool_id, event.tool_name)
            case ev.ToolComplete():
                step = self.tools.setdefault(event.tool_id, ToolStep(event.tool_id, event.tool_name))
                step.name = event.tool_name or step.name
                step.state = "error" if event.error else "done"
                step.error = event.error
            case ev.ArtifactEvent():
                self.artifacts.append(event.artifact)
            case ev.Status():
                self.notes.append(event.message)
            case ev.Verification(scope="text"):
                self.checks = [c.model_dump(mode="json") for c in event.checks]
            case ev.Citation():
                self.citations.append(event.model_dump(mode="json"))
            case ev.Error():
                self.error = {"code": event.code, "message": event.message, "retryable": event.retryable}
            case ev.MessageComplete():
                self.done = True
                self.success = event.success
                self.stop_reason = event.stop_reason
                self.usage = event.usage.model_dump()

    @property
    def state(self) -> str:
        """streaming, complete, incomplete (can be continued), stopped, or failed."""
        if not self.done:
            return "streaming"
        if self.success:
            return "complete"
        if self.stop_reason == "stopped":
            return "stopped"
        if self.stop_reason in CONTINUABLE and self.text.strip():
            return "incomplete"
        return "failed"

    @property
    def can_continue(self) -> bool:
        return self.state in ("incomplete", "stopped") and bool(self.text.strip())

    @property
    def can_retry(self) -> bool:
        return self.state in ("failed", "incomplete", "stopped") and self.stop_reason != "refusal"

    def by_kind(self, kind: ArtifactKind) -> list[Artifact]:
        return [a for a in self.artifacts if a.kind == kind]


def fold(message_id: str, events: list[ev.Event], *, question: str = "") -> MessageView:
    """Build a message's view from its logged events."""
    view = MessageView(message_id=message_id, question=question)
    for event in events:
        view.apply(event)
    return view
