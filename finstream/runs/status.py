"""One message status, and the one function from a finished run to it.

``MessageStatus`` is defined once, in store/records.py (the store checks it), and re-exported
here. ``run_status`` is how the end of a run becomes the status its message keeps: the log
writer stores it, the API reports what the writer stored, and the page reads a stored message
back through ``ending`` (its inverse: the success and stop reason a finished message shows).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from finstream.store.records import MessageStatus

__all__ = ["MessageStatus", "ending", "run_status"]

# Stop reasons with a status of their own; every other unsuccessful end leaves the partial
# answer "incomplete" (it can be continued).
_BY_STOP_REASON: dict[str, MessageStatus] = {
    "stopped": "stopped", "error": "error", "refusal": "error", "interrupted": "interrupted",
}


def run_status(success: bool, stop_reason: str | None,
               error: Mapping[str, Any] | None = None) -> MessageStatus:
    """The status a finished run leaves on its message: its terminal event's ``success`` and
    ``stop_reason``, and the run's last error event (``code``, ``message``, ``retryable``)."""
    if success:
        return "complete"
    if stop_reason == "error" and error and error.get("retryable"):
        return "incomplete"  # a dropped or failed stream: the partial answer can be continued
    return _BY_STOP_REASON.get(stop_reason or "", "incomplete")


def ending(status: MessageStatus, stop_reason: str | None) -> tuple[bool, str | None]:
    """A finished message read back: (success, the stop reason to show). A stopped or
    interrupted message stored without a stop reason shows its status as the reason."""
    if stop_reason is None and status in ("stopped", "interrupted"):
        stop_reason = status
    return status == "complete", stop_reason
