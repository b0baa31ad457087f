"""The demo analyst as a provider: plans, target filing, continuation."""

import pytest

from finstream.agent import CONTINUE_PROMPT, Turn, run_turn
from finstream.filings.ingest import ingest
from finstream.providers.demo import DemoAnalyst
from finstream.providers.demo_plan import plan_for
from finstream.samples import sample_paths
from finstream.tools import default_toolbox


@pytest.fixture(scope="module")
def apple():
    path = sample_paths()[0]
    return ingest(path.name, path.read_bytes())


@pytest.mark.parametrize(
    ("question", "intent", "metrics", "period"),
    [
        ("Show revenue and net income trend", "trend", ["revenue", "net income"], "annual"),
        ("What are the gross and operating margins?", "margins", ["revenue", "gross profit", "operating income", "net income"], "annual"),
        ("How fast did sales grow?", "growth", ["revenue"], "annual"),
        ("Cash and total assets on the balance sheet", "balance", ["total assets", "cash"], "annual"),
        ("Compare net income vs revenue by quarter", "compare", ["net income", "revenue"], "quarterly"),
        ("gross profit", "trend", ["gross profit"], "annual"),
    ],
)
def test_plans(question, intent, metrics, period):
    plan = plan_for(question)
    assert (plan.intent, plan.metrics, plan.period_type) == (intent, metrics, period)


async def answer(messages, filings):
    turn = Turn("c", "m", messages, filings)
    return [e async for e in run_turn(DemoAnalyst(delay=0), default_toolbox(), turn)]


async def test_answer_comes_from_the_filing_with_sources(apple):
    events = await answer([{"role": "user", "content": "Show Apple's revenue and net income trend"}], [apple])
    assert events[-1].success
    chart = next(e for e in events if e.type == "chart_ready").chart_data
    revenue = next(s for s in chart["spec"]["series"] if s["name"] == "Revenue")
    fy = dict(zip(chart["spec"]["x"], revenue["values"], strict=True))
    assert fy["FY2023"] == 383_285_000_000 and fy["FY2024"] == 391_035_000_000
    assert all(src["document"] == "CIK0000320193.json" for src in revenue["sources"])
    text = [e for e in events if e.type == "text_delta"][-1].accumulated_text
    assert "$391.0B in FY2024" in text


async def test_continuation_does_not_repeat_what_was_said(apple):
    full = await answer([{"role": "user", "content": "revenue trend"}], [apple])
    text = [e for e in full if e.type == "text_delta"][-1].accumulated_text
    partial = text[: len(text) // 2]
    messages = [
        {"role": "user", "content": "revenue trend"},
        {"role": "assistant", "content": partial},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]
    events = await answer(messages, [apple])
    rest = "".join(e.text for e in events if e.type == "text_delta")
    assert events[-1].success
    assert partial + rest == text


async def test_no_filings_says_so():
    events = await answer([{"role": "user", "content": "revenue?"}], [])
    assert "no filings" in [e for e in events if e.type == "text_delta"][-1].accumulated_text and events[-1].success
