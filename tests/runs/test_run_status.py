"""One message status, one function from a finished run to it (runs/status.py), and the places
that use it: the log writer's final patch and the page's view of a stored message."""

from __future__ import annotations

from typing import get_args

import pytest

from finstream.runs.status import MessageStatus, ending, run_status
from finstream.store import records
from finstream.store import schema as tables

RETRYABLE = {"code": "overloaded", "message": "busy", "retryable": True}
FINAL = {"code": "bad_request", "message": "no", "retryable": False}


@pytest.mark.parametrize(("success", "stop_reason", "error", "status"), [
    (True, "end_turn", None, "complete"),
    (True, "max_tokens", None, "complete"),  # success is the run's own word
    (False, "stopped", None, "stopped"),
    (False, "interrupted", RETRYABLE, "interrupted"),
    (False, "error", RETRYABLE, "incomplete"),  # a dropped stream: continuable
    (False, "error", FINAL, "error"),
    (False, "error", None, "error"),
    (False, "refusal", None, "error"),
    (False, "max_tokens", None, "incomplete"),
    (False, "max_rounds", None, "incomplete"),
    (False, None, None, "incomplete"),
])
def test_a_finished_run_maps_to_one_status(success, stop_reason, error, status):
    assert run_status(success, stop_reason, error) == status


def test_message_status_is_defined_once_and_the_schema_agrees():
    from finstream import runs

    assert MessageStatus is records.MessageStatus is runs.MessageStatus
    assert set(get_args(MessageStatus)) == set(tables.MESSAGE_STATUSES)


@pytest.mark.parametrize(("status", "stored_reason", "shown"), [
    ("complete", "end_turn", (True, "end_turn")),
    ("stopped", None, (False, "stopped")),  # stored without a reason: the status is the reason
    ("interrupted", None, (False, "interrupted")),
    ("incomplete", "error", (False, "error")),
    ("error", None, (False, None)),
])
def test_a_stored_message_reads_back_as_the_run_that_left_it(status, stored_reason, shown):
    assert ending(status, stored_reason) == shown
    success, reason = shown
    if reason is not None:  # the round trip: the run read back maps to the stored status
        assert run_status(success, reason, RETRYABLE if status == "incomplete" else None) == status


def test_the_page_shows_a_stored_message_through_the_same_mapping():
    from datetime import UTC, datetime

    from finstream.ui.backend import answer_view

    msg = records.Message(id="m", conversation_id="c", role="assistant", text="Half an answer",
                          status="stopped", created_at=datetime.now(UTC))
    view = answer_view(msg, [])
    assert (view.done, view.success, view.stop_reason, view.state) == (True, False, "stopped", "stopped")
    done = answer_view(records.Message(id="m2", conversation_id="c", role="assistant", text="All.",
                                       status="complete", created_at=datetime.now(UTC),
                                       stop_reason="end_turn"), [])
    assert (done.success, done.state) == (True, "complete")


async def test_the_writer_stores_the_status_of_each_ending(lite):
    """Through a real run: a retryable error mid-stream leaves the message incomplete (it can be
    continued), a final one leaves it in error (the writer's final patch uses run_status)."""
    from finstream.providers.base import ProviderError
    from finstream.providers.scripted import text_parts

    cid = lite.store.create_conversation().id
    lite.provider.add([*text_parts("Revenue rose "),
                       ProviderError("connection_lost", "dropped", retryable=True)])
    dropped = await lite.manager.wait(await lite.manager.start(cid, "q"))
    assert (dropped["status"], dropped["stop_reason"]) == ("incomplete", "error")
    lite.provider.add(ProviderError("invalid_request", "Bad request.", retryable=False))
    failed = await lite.manager.wait(await lite.manager.start(cid, "again"))
    assert (failed["status"], failed["stop_reason"]) == ("error", "error")
