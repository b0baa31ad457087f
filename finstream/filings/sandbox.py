"""Parsing uploads in worker processes with memory and CPU-time limits.

``ingest(filename, data)`` runs in the server's own process would let one hostile file (a PDF
whose content stream inflates to gigabytes, a 2,000-page document) take the whole server down or
hold it for minutes. Here every parse runs in a separate process started with ``RLIMIT_AS`` (its
address space) and ``RLIMIT_CPU`` (its CPU seconds, counted per file) set, so the operating
system ends a parse that goes past them; the server only sees a :class:`FilingError` naming the
file and the limit, and every other stream and upload goes on.

The pool is a set of worker processes ("slots"), each parsing one file at a time: a worker that
dies takes only its own file with it, never the parses that happen to run beside it, and it is
restarted before its slot is used again. The protocol is a length-prefixed pickle each way over
the worker's stdin/stdout (parse_worker.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import pickle
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from finstream.filings.limits import ParseLimits
from finstream.filings.model import Filing, FilingError

log = logging.getLogger(__name__)

# A worker is recycled after this many files: fragmentation from big parses does not pile up.
TASKS_PER_WORKER = 50
_ROOT = str(Path(__file__).resolve().parents[2])  # so ``-m finstream...`` finds the package


class _Slot:
    """One parser process (``python -m finstream.filings.parse_worker``), restarted when it dies.

    A plain subprocess rather than multiprocessing: nothing re-imports the server's main module,
    and nothing is forked from a process full of threads.
    """

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.proc: subprocess.Popen | None = None
        self.tasks = 0

    def ensure(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None or self.tasks >= TASKS_PER_WORKER:
            self.stop()
            lim = self.limits
            path = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH", "")) if p)
            env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": path}
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "finstream.filings.parse_worker", json.dumps(dataclasses.asdict(lim))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
            )
            self.tasks = 0
        return self.proc

    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()


def _read_exact(fd: int, n: int, deadline: float) -> bytes | None:
    """``n`` bytes from ``fd``, or None when the deadline passed first; b"" at end of file."""
    chunks: list[bytes] = []
    while n > 0:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return b""
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class ParserPool:
    """``parse(filename, data) -> Filing`` in bounded worker processes (thread-safe)."""

    def __init__(self, limits: ParseLimits, *, workers: int = 2, max_bytes: int | None = None,
                 wall_seconds: float | None = None) -> None:
        self.limits = limits
        self.max_bytes = max_bytes
        # CPU time is the real bound; the wall clock only catches a worker stuck without using CPU.
        self.wall_seconds = wall_seconds if wall_seconds is not None else 3 * limits.cpu_seconds + 30
        self._slots: queue.Queue[_Slot] = queue.Queue()
        self._all = [_Slot(limits) for _ in range(max(1, workers))]
        for slot in self._all:
            self._slots.put(slot)
        self._closed = False
        # Async callers wait for a free slot on these threads, not on asyncio's shared pool.
        self._waiters = ThreadPoolExecutor(max_workers=len(self._all) + 8, thread_name_prefix="parse-wait")

    def worker_pids(self) -> list[int]:
        return [pid for slot in self._all if (pid := slot.pid()) is not None]

    def parse(self, filename: str, data: bytes) -> Filing:
        """Parse in a worker; raises FilingError for a bad file or one past a limit."""
        if self._closed:
            raise RuntimeError("parser pool is closed")
        slot = self._slots.get()
        try:
            return self._run(slot, filename, data)
        finally:
            self._slots.put(slot)

    async def aparse(self, filename: str, data: bytes) -> Filing:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._waiters, self.parse, filename, data)

    def _run(self, slot: _Slot, filename: str, data: bytes) -> Filing:
        lim = self.limits
        request = pickle.dumps((filename, data, self.max_bytes), protocol=pickle.HIGHEST_PROTOCOL)
        for attempt in (1, 2):
            proc = slot.ensure()
            try:
                assert proc.stdin is not None
                proc.stdin.write(struct.pack("!Q", len(request)) + request)
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                slot.stop()  # died since its last file (or could not start): a fresh one
                if attempt == 2:
                    raise FilingError(filename, "the parser process could not be started") from None
                continue
            slot.tasks += 1
            break
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + self.wall_seconds
        head = _read_exact(fd, 8, deadline)
        body = _read_exact(fd, struct.unpack("!Q", head)[0], deadline) if head else head
        if body is None:
            slot.stop()
            raise FilingError(filename, f"parsing took longer than {self.wall_seconds:.0f} s; stopped "
                              "(FINSTREAM_PARSE_CPU_SECONDS)")
        if not body:
            code = proc.wait()
            slot.stop()
            raise FilingError(filename, _death_reason(code, lim))
        kind, value = pickle.loads(body)
        if kind == "ok":
            return value
        if kind == "refused":
            raise FilingError(*value)
        raise RuntimeError(value)  # a parser bug: the caller records "could not be read"

    def close(self) -> None:
        self._closed = True
        self._waiters.shutdown(wait=False, cancel_futures=True)
        for slot in self._all:
            slot.stop()


def _death_reason(exit_code: int, lim: ParseLimits) -> str:
    if exit_code == -signal.SIGXCPU:
        return (f"parsing used more than the limit of {lim.cpu_seconds} s of CPU time "
                "(FINSTREAM_PARSE_CPU_SECONDS); stopped")
    # A C library that cannot allocate aborts or crashes the process instead of raising.
    return (f"the parser stopped (exceeded its memory limit of {lim.memory_mb} MB, "
            "FINSTREAM_PARSE_MEMORY_MB, or crashed on this file)")


_pool: ParserPool | None = None
_lock = threading.Lock()


def get_pool(settings: Any = None) -> ParserPool:
    """The process-wide parser pool, from the settings (created on first use)."""
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                if settings is None:
                    from finstream.settings import get_settings

                    settings = get_settings()
                _pool = ParserPool(ParseLimits.from_settings(settings), workers=settings.parse_workers,
                                   max_bytes=settings.max_upload_mb * 2**20)
    return _pool


def parse_upload(filename: str, data: bytes) -> Filing:
    """``ingest(filename, data)`` in the bounded pool (same result, same FilingErrors)."""
    return get_pool().parse(filename, data)


async def aparse_upload(filename: str, data: bytes) -> Filing:
    return await get_pool().aparse(filename, data)
