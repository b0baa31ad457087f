"""Print mutmut's verdicts per module: killed / total and the score, from mutants/**/*.meta.

Run by `make mutate` after `mutmut run`. A mutant counts as caught when a test failed, timed out or
crashed; it counts against the score when it survived or no test ran it. Survivors judged
equivalent (the behaviour cannot change) are listed in docs/TESTING.md.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

CAUGHT = {1, 3, 36, 37, -24, 24, 152, 255, -11, -9}


def main(root: Path = Path("mutants"), target: float = 0.85) -> int:
    metas = sorted(root.rglob("*.py.meta"))
    if not metas:
        print("no mutmut results under mutants/: run `mutmut run` first")
        return 1
    below = []
    print(f"{'module':<42}{'killed':>8}{'total':>8}{'score':>8}")
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        tally = Counter("caught" if code in CAUGHT else "missed" for code in codes.values())
        total = sum(tally.values())
        score = tally["caught"] / total
        module = str(meta.relative_to(root)).removesuffix(".py.meta").replace("/", ".")
        print(f"{module:<42}{tally['caught']:>8}{total:>8}{score:>8.0%}")
        if score < target:
            below.append(module)
    if below:
        print(f"below {target:.0%}: {', '.join(below)} (survivors: `.venv/bin/mutmut results`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
