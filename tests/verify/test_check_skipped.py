"""An answer with nothing to check its numbers against (no filings, no tool results) is not
scanned for numbers, and the agent loop hands no check to a thread; with a filing the check still
runs and marks the numbers."""

from __future__ import annotations

import asyncio

from finstream.agent import Turn, run_turn
from finstream.providers.scripted import ScriptedProvider, text_step
from finstream.tools import default_toolbox
from finstream.tools.base import ToolContext
from finstream.verify import answer

AAPL_10K = "aapl-10-k-2024-11-01.html"
TEXT = "Revenue was $391.0B in FY2024, up 2.0% from $383.3B in FY2023."


def _no_scan(text: str) -> list:
    raise AssertionError("the text was scanned for numbers")


def _turn(filings: list | None = None) -> Turn:
    return Turn("c", "m", [{"role": "user", "content": "q"}], filings or [])


async def _types(provider: ScriptedProvider, turn: Turn) -> list[str]:
    return [e.type async for e in run_turn(provider, default_toolbox(), turn)]


def test_can_check_needs_filings_or_tool_results(filing):
    assert not answer.can_check(ToolContext())
    assert answer.can_check(ToolContext(filings=[filing(AAPL_10K)]))
    assert answer.can_check(ToolContext(results=[("get_financial_data", {"points": []})]))


def test_nothing_to_check_against_means_no_scan(monkeypatch):
    monkeypatch.setattr(answer, "find_numbers", _no_scan)
    assert answer.check_answer(TEXT, ToolContext()) is None


async def test_an_answer_without_filings_or_tools_is_not_scanned_nor_sent_to_a_thread(monkeypatch):
    monkeypatch.setattr(answer, "find_numbers", _no_scan)
    threads: list[object] = []
    real = asyncio.to_thread

    async def counting(func, /, *args, **kwargs):  # noqa: ANN001, ANN202
        threads.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    types = await _types(ScriptedProvider([text_step(TEXT)]), _turn())
    assert types[-1] == "message_complete" and "verification" not in types
    assert threads == []


async def test_with_a_filing_the_numbers_are_still_checked(filing):
    types = await _types(ScriptedProvider([text_step(TEXT)]), _turn([filing(AAPL_10K)]))
    assert "verification" in types
