"""Run one benchmark from two checkouts, alternating, round by round: before/after in one run on
a shared, noisy machine (a neighbour's burst then hurts both alike). Prints each run's output
under its label with the load average at its start.

    .venv/bin/python benchmarks/before_after.py --baseline /tmp/base --rounds 3 -- bench_sse.py --sizes 10,100 --idle 0

The baseline is any other checkout (``git worktree add`` or ``git archive <commit> | tar -x``);
each script runs from its own tree, so it imports that tree's finstream.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("script", help="a file in benchmarks/, e.g. bench_sse.py")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    trees = [("before", args.baseline.resolve()), ("after", ROOT)]
    for i in range(args.rounds):
        for label, root in trees if i % 2 == 0 else trees[::-1]:
            load = os.getloadavg()[0]
            t0 = time.monotonic()
            done = subprocess.run([sys.executable, str(root / "benchmarks" / args.script), *args.args],
                                  cwd=root, capture_output=True, text=True)
            print(f"=== round {i + 1} {label} ({root}) load average {load:.1f}, "
                  f"{time.monotonic() - t0:.0f} s, exit {done.returncode}", flush=True)
            print(done.stdout.rstrip(), flush=True)
            if done.returncode:
                print(done.stderr.strip()[-2000:], flush=True)


if __name__ == "__main__":
    main()
