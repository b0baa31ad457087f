"""The process-wide runtime: one asyncio loop in a daemon thread, the store and the RunManager.

Streamlit scripts are synchronous and rerun at every click; runs must outlive them. So runs live on
this loop, and ``iter_tail`` is the one place where the async tail is turned into a sync generator
(pulling one event per round trip gives natural back-pressure and a clean close on rerun).
Async code on another loop (e.g. uvicorn) uses ``acall`` / ``atail``.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from finstream import events as ev
from finstream.providers.base import Provider
from finstream.runs.manager import RunManager
from finstream.runs.options import RunOptions
from finstream.settings import Settings, get_settings
from finstream.store import AsyncStore, Store, open_store
from finstream.tools.base import Toolbox

log = logging.getLogger(__name__)
T = TypeVar("T")


class Runtime:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        provider_factory: Callable[[], Provider] | None = None,
        toolbox: Toolbox | None = None,
        **run_options: Any,
    ) -> None:
        self.settings = settings or get_settings()
        self.store = store or open_store(self.settings)
        if provider_factory is None:
            from finstream.providers import make_provider

            provider_factory = lambda: make_provider(self.settings)  # noqa: E731
        if toolbox is None:
            from finstream.tools import default_toolbox

            toolbox = default_toolbox()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="finstream-runtime", daemon=True)
        self._thread.start()
        self.astore = AsyncStore(self.store)
        self.runs = RunManager(self.astore, provider_factory, toolbox, self.settings, **run_options)
        self._closed = False
        self.call(self._boot())

    async def _boot(self) -> None:
        marked = await self.runs.recover()
        if marked:
            log.info("marked %d interrupted message(s) left by a stopped process", len(marked))
        self.runs.start_housekeeping()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the runtime's loop and wait for its result (from any other thread)."""
        if self._closed:
            coro.close()
            raise RuntimeError("the finstream runtime is closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def acall(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine on the runtime's loop from another event loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def iter_tail(
        self, conversation_id: str, after_seq: int = 0, message_id: str | None = None, **kw: bool
    ) -> Iterator[ev.Event]:
        """RunManager.tail (``follow=``, ``accumulated=``) as a sync generator. Closing it (a
        Streamlit rerun) detaches the tailer; the run goes on."""
        agen = self.runs.tail(conversation_id, after_seq=after_seq, message_id=message_id, **kw)
        try:
            while True:
                try:
                    yield self.call(agen.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            if not self._closed:
                self.call(agen.aclose())

    async def atail(
        self, conversation_id: str, after_seq: int = 0, message_id: str | None = None, **kw: bool
    ) -> AsyncIterator[ev.Event]:
        """RunManager.tail (``follow=``, ``accumulated=``) for async code on another loop."""
        agen = self.runs.tail(conversation_id, after_seq=after_seq, message_id=message_id, **kw)
        try:
            while True:
                try:
                    yield await self.acall(agen.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            if not self._closed:
                await self.acall(agen.aclose())

    def start(self, conversation_id: str, question: str, options: RunOptions | None = None) -> str:
        return self.call(self.runs.start(conversation_id, question, options))

    def continue_message(
        self, conversation_id: str, message_id: str, options: RunOptions | None = None
    ) -> str:
        return self.call(self.runs.continue_message(conversation_id, message_id, options))

    def ask_again(
        self, conversation_id: str, message_id: str, question: str | None = None,
        options: RunOptions | None = None,
    ) -> str:
        """A new version of an exchange: regenerate its answer, or ask its edited question."""
        return self.call(self.runs.ask_again(conversation_id, message_id, question, options))

    def close(self) -> None:
        """End local runs (as "interrupted", continuable), then the loop and the database pool."""
        if self._closed:
            return
        try:
            self.call(self.runs.shutdown(), timeout=30)
        except Exception:
            log.exception("runtime shutdown")
        self._closed = True
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.astore.close()


_runtime: Runtime | None = None
_lock = threading.Lock()


def close_at_exit(runtime: Runtime) -> None:
    """Close ``runtime`` when the interpreter exits, while it can still finish its runs' writes.

    ``atexit`` is too late: the interpreter first joins non-daemon threads and stops every
    ThreadPoolExecutor (the store's pool included), so the runs' final writes and housekeeping
    failed with "cannot schedule new futures after interpreter shutdown". Threading's own exit
    hooks run before that, newest first, so one registered now runs before the pools stop.
    """
    register = getattr(threading, "_register_atexit", None)  # CPython 3.9+
    try:
        if register is None:
            raise RuntimeError("no threading exit hook")
        register(runtime.close)
    except RuntimeError:  # already shutting down, or another interpreter: the late hook still helps
        atexit.register(runtime.close)


def get_runtime() -> Runtime:
    """The process-wide runtime, created on first use (thread-safe), closed at exit."""
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = Runtime()
                close_at_exit(_runtime)
    return _runtime
