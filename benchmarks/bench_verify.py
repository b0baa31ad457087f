"""Verification benchmark: what checking numbers costs an answer, measured side by side.

    .venv/bin/python benchmarks/bench_verify.py [--repeat 5]

Prints, for Apple's companyfacts sample (the largest filing: ~12,000 facts):
  1. building the fact index from the filing (once per answer);
  2. one demo-analyst answer through run_turn with and without the checker (the checker switched
     off by giving the output tools and the text check an empty index), so the ratio is its cost,
     for later answers (the filings' index shared) and for a conversation's first;
  3. checking a long answer's text (60 numbers) against the answer's facts.
Ratios, not absolute times, are the result (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from finstream.agent import Turn, run_turn  # noqa: E402
from finstream.filings.ingest import ingest  # noqa: E402
from finstream.providers.demo import DemoAnalyst  # noqa: E402
from finstream.samples import sample_paths  # noqa: E402
from finstream.tools import default_toolbox  # noqa: E402
from finstream.verify import context  # noqa: E402
from finstream.verify.facts import FactIndex, FilingFacts  # noqa: E402
from finstream.verify.text import check_text  # noqa: E402

QUESTION = "What are the gross and operating margins?"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


async def answer(filing) -> list:
    turn = Turn("c", "m", [{"role": "user", "content": QUESTION}], [filing])
    return [e async for e in run_turn(DemoAnalyst(delay=0), default_toolbox(), turn)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = sample_paths()[0]
    filing = ingest(path.name, path.read_bytes())
    filing.document_id = "bench"  # as stored: the filings' index is shared between answers
    print(f"filing: {path.name}, {len(filing.facts):,} facts")

    build = best(lambda: FilingFacts([filing]), args.repeat)
    print(f"1. fact index build: {build * 1000:.1f} ms")

    with_check = best(lambda: asyncio.run(answer(filing)), args.repeat)  # the index is cached after the first

    def cold() -> None:
        context._SHARED.clear()
        asyncio.run(answer(filing))

    first = best(cold, args.repeat)
    original = context.index_for
    context.index_for = lambda ctx: FactIndex([])  # nothing to check against: the checker is skipped
    import finstream.tools.outputs as outputs
    import finstream.verify.answer as answer_mod

    outputs.index_for = answer_mod.index_for = context.index_for
    try:
        without = best(lambda: asyncio.run(answer(filing)), args.repeat)
    finally:
        outputs.index_for = answer_mod.index_for = context.index_for = original
    print(f"2. demo answer: {without * 1000:.0f} ms without checks; with them {with_check * 1000:.0f} ms "
          f"(x{with_check / without:.2f}), the conversation's first answer {first * 1000:.0f} ms "
          f"(x{first / without:.2f}, building the index)")

    events = asyncio.run(answer(filing))
    index = FactIndex([filing])
    for e in events:
        if e.type == "tool_complete" and e.result:
            index.add_tool_result(e.tool_name, e.result)
    text = [e for e in events if e.type == "text_delta"][-1].accumulated_text
    numbers = sum(len(c.checks) for c in events if c.type == "verification")
    long_text = " ".join([text] * max(1, 60 // max(numbers, 1)))
    count = len(check_text(long_text, index))
    per = best(lambda: check_text(long_text, index), args.repeat)
    print(f"3. text check: {count} numbers in {per * 1000:.1f} ms ({per / count * 1e6:.0f} µs a number), "
          f"pool of {len(index.pool)} facts")


if __name__ == "__main__":
    main()
