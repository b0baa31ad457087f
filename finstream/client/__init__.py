"""A Python client for finstream's HTTP API, sync and async: ask, stream events with automatic
resume after a dropped connection (Last-Event-ID), and fall back to the non-streaming endpoint
when streaming is refused or fails, with the same ``Answer`` either way. See docs/CLIENT.md.

    from finstream.client import Client
    with Client("http://127.0.0.1:8000", token=None) as fs:
        cid = fs.create_conversation(files=["aapl-10-k-2024-11-01.html"])
        stream = fs.stream(cid, "Show revenue and net income")
        for event in stream:
            if event.type == "text_delta":
                print(event.text, end="", flush=True)
        print(stream.answer.status, len(stream.answer.artifacts))
"""

from finstream.client.aio import AnswerStream, AsyncClient
from finstream.client.answer import Answer, ClientError
from finstream.client.sync import Client, SyncAnswerStream

__all__ = ["Answer", "AnswerStream", "AsyncClient", "Client", "ClientError", "SyncAnswerStream"]
