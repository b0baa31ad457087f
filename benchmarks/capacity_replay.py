"""The replay both servers stream in bench_capacity.py: ``TOKENS`` text deltas, one every
``GAP`` seconds (about 25 per second, a real model's pace). Each token carries the wall-clock time
it was handed to the server's streaming code, so a client can tell the delay the server added."""

from __future__ import annotations

import re
import time

TOKENS = 100
GAP = 0.04
_STAMP = re.compile(r"\|(\d+\.\d+) ")


def token(i: int) -> str:
    return f"w{i}|{time.time():.6f} "


def delays(text: str, now: float) -> list[float]:
    """Seconds from each token's emission to ``now`` (a delta may carry several tokens)."""
    return [now - float(s) for s in _STAMP.findall(text)]
