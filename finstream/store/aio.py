"""Async access to the store: each call runs on a small dedicated thread pool.

A dedicated pool (not asyncio's default one) keeps database waits from starving other blocking
work, and bounds the connections a process opens.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from finstream.store.store import Store

T = TypeVar("T")


class AsyncStore:
    """``await astore.method(...)`` for every public Store method; ``astore.sync`` is the Store."""

    def __init__(self, store: Store, *, max_workers: int = 4) -> None:
        self.sync = store
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="finstream-db")
        self.closed = False

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        attr = getattr(self.sync, name)
        if name.startswith("_") or not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self.run(attr, *args, **kwargs)

        call.__name__ = name
        call.__doc__ = attr.__doc__
        return call

    def close(self) -> None:
        self.closed = True
        self._pool.shutdown(wait=True)
        self.sync.close()
