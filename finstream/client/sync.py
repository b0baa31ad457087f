"""``Client``: the same API for synchronous programs. One async implementation (aio.py) runs on a
private event loop in a daemon thread; this class only crosses to it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable, Iterator
from typing import Any, TypeVar

from finstream import events as ev
from finstream.client.aio import AnswerStream, AsyncClient, FileArg
from finstream.client.answer import Answer

T = TypeVar("T")


class SyncAnswerStream:
    """``for event in stream``: the answer's events; then ``stream.answer``."""

    def __init__(self, client: Client, inner: AnswerStream) -> None:
        self._client = client
        self._inner = inner

    @property
    def message_id(self) -> str:
        return self._inner.message_id

    @property
    def answer(self) -> Answer | None:
        return self._inner.answer

    def __iter__(self) -> Iterator[ev.Event]:
        agen = self._inner.__aiter__()
        try:
            while True:
                try:
                    yield self._client._call(agen.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._client._call(agen.aclose())


class Client:
    """``with Client("http://host:8000", token=...) as fs: answer = fs.ask(cid, question)``"""

    def __init__(self, base_url: str, token: str | None = None, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="finstream-client", daemon=True)
        self._thread.start()

        async def make() -> AsyncClient:
            return AsyncClient(base_url, token, **options)

        self.aio = self._call(make())

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_running():
            self._call(self.aio.aclose())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def create_conversation(self, title: str = "", files: Iterable[FileArg] = ()) -> str:
        return self._call(self.aio.create_conversation(title, list(files)))

    def upload(self, conversation_id: str, files: Iterable[FileArg]) -> list[dict[str, Any]]:
        return self._call(self.aio.upload(conversation_id, list(files)))

    def conversations(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        return self._call(self.aio.conversations(limit, offset))

    def history(self, conversation_id: str) -> dict[str, Any]:
        return self._call(self.aio.history(conversation_id))

    def rename(self, conversation_id: str, title: str) -> dict[str, Any]:
        return self._call(self.aio.rename(conversation_id, title))

    def delete(self, conversation_id: str) -> None:
        self._call(self.aio.delete(conversation_id))

    def share(self, conversation_id: str) -> dict[str, Any]:
        return self._call(self.aio.share(conversation_id))

    def feedback(self, conversation_id: str, message_id: str, rating: str, comment: str = "") -> dict:
        return self._call(self.aio.feedback(conversation_id, message_id, rating, comment))

    def stop(self, conversation_id: str) -> bool:
        return self._call(self.aio.stop(conversation_id))

    def stream(self, conversation_id: str, question: str, options: dict[str, Any] | None = None) -> SyncAnswerStream:
        return SyncAnswerStream(self, self._call(self.aio.stream(conversation_id, question, options)))

    def ask(self, conversation_id: str, question: str, options: dict[str, Any] | None = None,
            on_event: Any = None) -> Answer:
        return self._call(self.aio.ask(conversation_id, question, options, on_event))

    def continue_answer(self, conversation_id: str, message_id: str,
                        options: dict[str, Any] | None = None, on_event: Any = None) -> Answer:
        return self._call(self.aio.continue_answer(conversation_id, message_id, options, on_event))

    def answer(self, conversation_id: str, message_id: str, *, wait: bool = False) -> Answer:
        return self._call(self.aio.answer(conversation_id, message_id, wait=wait))
