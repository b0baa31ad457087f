"""A Server-Sent Events reader (WHATWG rules: ``id:``, ``event:``, ``data:`` lines, comments, a
blank line ends an event), over any async iterator of text lines such as httpx's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SSE:
    event: str
    data: str
    id: str | None


async def read_sse(lines: AsyncIterator[str]) -> AsyncIterator[SSE]:
    event, last_id = "", None
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SSE(event or "message", "\n".join(data), last_id)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue  # a comment: the server's keep-alive ping
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value
