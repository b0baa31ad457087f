"""The parser process of finstream/filings/sandbox.py: ``python -m finstream.filings.parse_worker LIMITS``.

It sets its own address-space limit (``RLIMIT_AS``) before importing a parser, then answers
requests on stdin, one at a time: a length-prefixed pickle of (filename, data, max_bytes) in, a
length-prefixed pickle of ("ok", Filing) / ("refused", (filename, reason)) / ("error", text) out.
For each file the CPU-time limit (``RLIMIT_CPU``, which counts the process's whole life) is moved
to "used so far + this file's budget"; past it the kernel ends the process with SIGXCPU.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import struct
import sys


def _set_memory(mb: int) -> None:
    soft = mb * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _set_cpu_budget(seconds: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + seconds + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _read(stream, n: int) -> bytes:  # noqa: ANN001
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def main() -> int:
    from finstream.filings.limits import ParseLimits, set_limits

    limits = ParseLimits(**json.loads(sys.argv[1]))
    # The protocol owns fd 1: anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = sys.stdin.buffer
    set_limits(limits)
    _set_memory(limits.memory_mb)
    from finstream.filings.ingest import ingest
    from finstream.filings.model import FilingError

    while True:
        try:
            size = struct.unpack("!Q", _read(inp, 8))[0]
            filename, data, max_bytes = pickle.loads(_read(inp, size))
        except EOFError:
            return 0
        _set_cpu_budget(limits.cpu_seconds)
        try:
            reply: tuple = ("ok", ingest(filename, data, max_bytes=max_bytes))
        except FilingError as exc:
            reply = ("refused", (exc.filename, exc.reason))
        except MemoryError:
            reply = ("refused", (filename, f"needs more memory than the parser's limit of "
                                 f"{limits.memory_mb} MB (FINSTREAM_PARSE_MEMORY_MB); refused"))
        except Exception as exc:  # a parser bug: reported, and the worker goes on
            reply = ("error", f"{type(exc).__name__}: {exc}")
        del data
        try:
            body = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            body = pickle.dumps(("refused", (filename, f"result needs more memory than the parser's "
                                             f"limit of {limits.memory_mb} MB (FINSTREAM_PARSE_MEMORY_MB)")))
        out.write(struct.pack("!Q", len(body)) + body)
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
