"""What finstream.client returns for an answer, streamed or not: the server's record of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finstream import events as ev


class ClientError(Exception):
    """The server refused a request (``status``, ``code`` and ``message`` from its JSON error)."""

    def __init__(self, status: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body


@dataclass
class Answer:
    conversation_id: str
    message_id: str
    status: str  # complete, incomplete, interrupted, stopped, error
    stop_reason: str | None
    text: str
    artifacts: list[dict[str, Any]]
    usage: dict[str, Any]
    error: dict[str, Any] | None
    events: list[ev.Event] = field(default_factory=list)  # what was streamed (empty after a fallback)
    streamed: bool = True  # False: streaming was refused or failed; the answer came without it
    fallback_reason: str | None = None
    resumes: int = 0  # dropped connections resumed with Last-Event-ID

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @classmethod
    def from_json(cls, data: dict[str, Any], **extra: Any) -> Answer:
        return cls(
            conversation_id=data["conversation_id"], message_id=data["message_id"],
            status=data.get("status") or "", stop_reason=data.get("stop_reason"),
            text=data.get("text") or "", artifacts=list(data.get("artifacts") or []),
            usage=dict(data.get("usage") or {}), error=data.get("error"), **extra,
        )
