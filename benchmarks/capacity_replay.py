"""The replay both servers stream in bench_capacity.py: ``TOKENS`` text deltas, one every
``GAP`` seconds (about 25 per second, a real model's pace). Each token carries the wall-clock time
it was handed to the server's streaming code, so a client can tell the delay the server added.

The stamp is written in letters (digit d as the letter ``"abcdefghij"[d]``), so a token reads as a
word to the server: a 16-digit number in every token is not what a model writes. (finstream's
number check of a finished answer, verify/numbers.py, spent about 11 ms of CPU per answer on that
many long digit runs, 7x what it spent on the same text in letters. The replay's conversations
have no filings, so finstream now skips that check: there is nothing to check against.) Chainlit
passes text through unread either way."""

from __future__ import annotations

import os
import re
import time

# bench_capacity.py --cost-split serves a 2-token replay beside this one to part a stream's set-up
# from its per-token cost; every process of a run (servers, load generator) reads the same value.
TOKENS = int(os.environ.get("CAPACITY_TOKENS", "100"))
GAP = 0.04
_DIGITS = "abcdefghij"
_ENCODE = str.maketrans("0123456789.", _DIGITS + "x")
_DECODE = str.maketrans(_DIGITS + "x", "0123456789.")
_STAMP = re.compile(r"\|([a-jx]+) ")


def token(i: int) -> str:
    return f"w{str(i).translate(_ENCODE)}|{f'{time.time():.6f}'.translate(_ENCODE)} "


def delays(text: str, now: float) -> list[float]:
    """Seconds from each token's emission to ``now`` (a delta may carry several tokens)."""
    return [now - float(s.translate(_DECODE)) for s in _STAMP.findall(text)]
