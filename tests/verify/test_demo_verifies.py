"""The demo analyst answers from the filings' own facts: every number it shows verifies or is
derived, in its artifacts and in its text (Apple's companyfacts sample and its FY2024 10-K)."""

from __future__ import annotations

import pytest

from finstream.agent import Turn, run_turn
from finstream.filings.ingest import ingest
from finstream.providers.demo import DemoAnalyst
from finstream.samples import sample_paths
from finstream.tools import default_toolbox

QUESTIONS = [
    "Show Apple's revenue and net income trend",
    "What are the gross and operating margins?",
    "How fast did sales grow?",
    "Cash and total assets on the balance sheet",
    "What is the diluted eps trend?",
]


@pytest.fixture(scope="module")
def sample():
    path = sample_paths()[0]
    return ingest(path.name, path.read_bytes())


async def answer(question: str, filing) -> list:
    turn = Turn("c", "m", [{"role": "user", "content": question}], [filing])
    return [e async for e in run_turn(DemoAnalyst(delay=0), default_toolbox(), turn)]


def all_checks(events) -> list[dict]:
    out = []
    for e in events:
        if e.type in ("chart_ready", "table_ready", "metric_ready"):
            kind = e.type.removesuffix("_ready")
            out += getattr(e, f"{kind}_data")["verification"]
        elif e.type == "verification":
            out += [c.model_dump() for c in e.checks]
    return out


def assert_all_check_out(events) -> None:
    assert events[-1].success
    checks = all_checks(events)
    assert checks, "nothing was checked"
    bad = [(c.get("where") or c.get("text"), c["reason"]) for c in checks if c["status"] == "unverified"]
    assert bad == []
    assert {c["status"] for c in checks} == {"verified", "derived"}
    assert any(e.type == "verification" and e.checks for e in events)  # the text was checked too


@pytest.mark.parametrize("question", QUESTIONS)
async def test_demo_answers_on_the_companyfacts_sample_all_verify(sample, question):
    assert_all_check_out(await answer(question, sample))


@pytest.mark.parametrize("question", QUESTIONS[:2] + ["Cash and total assets"])
async def test_demo_answers_on_the_10k_all_verify(filing, question):
    assert_all_check_out(await answer(question, filing("aapl-10-k-2024-11-01.html")))


async def test_demo_answer_from_a_press_release_gives_its_quarter_and_verifies(filing):
    """An earnings release reports a quarter, not a fiscal year: the demo answers with its
    quarters (SOURCES.md: Buckle Q3 FY2024 net sales $293,618K against $303,457K a year earlier),
    and every number it shows verifies."""
    events = await answer("Show revenue and net income trend", filing("BuckleInc.8-K.EX99.1.html"))
    checks = all_checks(events)
    assert checks and [c for c in checks if c["status"] == "unverified"] == []
    chart = next(e for e in events if e.type == "chart_ready").chart_data
    revenue = next(s for s in chart["spec"]["series"] if s["name"] == "Revenue")
    assert revenue["values"] == [303_457_000, 293_618_000]
    assert all(label.startswith("Q3") for label in chart["spec"]["x"])


@pytest.mark.parametrize("question", ["Compare Apple and Salesforce revenue",
                                      "Compare net income of Apple and Salesforce"])
async def test_demo_comparisons_verify_from_their_own_tool_results(question):
    """compare_companies results are this answer's data too: the figures the demo quotes from
    them (two companies, each in its own fiscal years) verify."""
    from tests.support.filings import FILINGS_DIR as shared

    if not (shared / "corpus" / "crm-10-k-2025-01-31.html").exists():
        pytest.skip(f"{shared}: the real filings are not there")
    paths = [shared / "aapl-10-k-2024-11-01.html", shared / "corpus" / "crm-10-k-2025-01-31.html"]
    filings = [ingest(p.name, p.read_bytes()) for p in paths]
    turn = Turn("c", "m", [{"role": "user", "content": question}], filings)
    events = [e async for e in run_turn(DemoAnalyst(delay=0), default_toolbox(), turn)]
    tools = {e.tool_name for e in events if e.type == "tool_complete"}
    assert "compare_companies" in tools, tools
    assert_all_check_out(events)
