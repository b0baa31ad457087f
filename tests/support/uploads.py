"""Test set-up that uploads a file to a runtime the way every surface does: through the service
(``finstream.service.uploads.store_upload``), parsed by the bounded parser."""

from __future__ import annotations

from finstream.filings.sandbox import get_pool
from finstream.runs.bridge import Runtime
from finstream.service.uploads import store_upload
from finstream.store import DocumentInfo


def upload(runtime: Runtime, conversation_id: str, filename: str, data: bytes) -> DocumentInfo:
    """Parse and store one upload on ``runtime``; check ``.error`` on the result."""
    parse = get_pool(runtime.settings).aparse
    return runtime.call(store_upload(runtime.astore, parse, conversation_id, filename, data))
