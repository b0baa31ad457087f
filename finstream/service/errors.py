"""What the service refuses, and why: one exception type with a machine code and a message.

The codes are the API's error codes (the HTTP API maps each to its status); the Streamlit pages
show the message. Neither surface rewords it.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request refused by a shared rule: ``code`` says which kind, ``message`` says why."""

    code = "invalid_request"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class Invalid(ServiceError):
    """The request itself is wrong (an empty question, an out-of-range option)."""

    code = "invalid_request"


class TooLarge(ServiceError):
    """A question or a file over its limit."""

    code = "too_large"


class NotFound(ServiceError):
    """The conversation, answer or document does not exist (here)."""

    code = "not_found"


class Busy(ServiceError):
    """An answer is streaming in the conversation (``message_id``), here or on another replica."""

    code = "busy"

    def __init__(self, message: str, message_id: str | None = None) -> None:
        super().__init__(message, message_id=message_id)
        self.message_id = message_id


class NotContinuable(ServiceError):
    """The answer cannot be continued (it is complete, or it is a question)."""

    code = "not_continuable"
