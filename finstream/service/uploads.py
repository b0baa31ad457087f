"""An upload's way in: its size checked, parsed (in the bounded parser), stored with the filing
or with why it could not be read, and reported in the same words on every surface.

A file that cannot be read is still stored (bytes kept, reason attached), so the conversation
lists it and the analyst can name it; it never affects the other documents.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from finstream.filings.model import Filing, FilingError
from finstream.service.errors import NotFound, TooLarge
from finstream.store import AsyncStore, DocumentInfo, NotFoundError

log = logging.getLogger("finstream.service")

Parse = Callable[[str, bytes], Awaitable[Filing]]  # (filename, data) -> Filing, or FilingError

# What the upload widget offers. The parser reads the format from the bytes (the extension is
# only a hint), so the API takes any name and the parser names what it could not read.
ACCEPTED_TYPES = ["htm", "html", "xhtml", "xml", "xbrl", "json", "pdf", "csv", "xlsx", "xls", "txt"]

# The shipped samples under names that say whose they are (SEC serves them as CIK numbers).
SAMPLE_NAMES = {"CIK0000320193.json": "apple-companyfacts-CIK0000320193.json"}


@dataclass(frozen=True)
class Rejected:
    """An upload that could not be read: its name and the reason (without the name)."""

    filename: str
    reason: str


def check_size(filename: str, size: int, limit: int) -> None:
    """TooLarge naming the file and the limit when ``size`` bytes is over ``limit``."""
    if size > limit:
        raise TooLarge(f"{filename}: {size} bytes, the limit is {limit} bytes per file", filename=filename)


async def store_upload(store: AsyncStore, parse: Parse, conversation_id: str, filename: str,
                       data: bytes) -> DocumentInfo:
    """Parse and store one upload; check ``.error`` on the result. NotFound: no such conversation."""
    try:
        try:
            filing = await parse(filename, data)
        except FilingError as exc:
            return await store.run(store.sync.add_document, conversation_id, filename, data, error=str(exc))
        except Exception as exc:  # a parser bug must not lose the upload or the conversation
            log.exception("ingest failed for an upload")
            reason = f"{filename}: could not be read ({type(exc).__name__})"
            return await store.run(store.sync.add_document, conversation_id, filename, data, error=reason)
        return await store.run(store.sync.add_document, conversation_id, filename, data, filing=filing)
    except NotFoundError as exc:
        raise NotFound(str(exc)) from None


def rejection(info: DocumentInfo) -> Rejected | None:
    """A stored upload that failed, as (filename, reason without the ``filename: `` prefix)."""
    if not info.error:
        return None
    prefix = f"{info.filename}: "
    reason = info.error[len(prefix):] if info.error.startswith(prefix) else info.error
    return Rejected(info.filename, reason)


def failure_message(filename: str, error: str) -> str:
    """The line a user reads about a failed upload: always naming the file."""
    return error if filename in error else f"{filename}: {error}"


async def preload_samples(store: AsyncStore, parse: Parse, conversation_id: str) -> list[DocumentInfo]:
    """The sample filing(s) the project ships, put into a conversation so a first run can ask at once."""
    try:
        from finstream.samples import sample_paths
    except ImportError:
        return []
    return [
        await store_upload(store, parse, conversation_id, SAMPLE_NAMES.get(path.name, path.name), path.read_bytes())
        for path in sample_paths()
    ]
