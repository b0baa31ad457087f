"""The demo analyst as a provider: plans, target filing, continuation."""

import pytest

from finstream.agent import CONTINUE_PROMPT, Turn, run_turn
from finstream.filings.ingest import ingest
from finstream.providers.demo import DemoAnalyst
from finstream.providers.demo_plan import plan_for
from finstream.samples import sample_paths
from finstream.tools import default_toolbox
from tests.support.filings import FILINGS_DIR


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
    text = "".join(e.text for e in events if e.type == "text_delta")
    assert "$391.0B in FY2024" in text


async def test_continuation_does_not_repeat_what_was_said(apple):
    full = await answer([{"role": "user", "content": "revenue trend"}], [apple])
    text = "".join(e.text for e in full if e.type == "text_delta")
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
    assert "no filings" in "".join(e.text for e in events if e.type == "text_delta") and events[-1].success


# ---------------------------------------------------------------- several companies, text, gaps

FILINGS = FILINGS_DIR


@pytest.fixture(scope="module")
def apple_10k():
    path = FILINGS / "aapl-10-k-2024-11-01.html"
    return ingest(path.name, path.read_bytes())


@pytest.fixture(scope="module")
def salesforce():
    path = FILINGS / "corpus" / "crm-10-k-2025-01-31.html"
    return ingest(path.name, path.read_bytes())


async def ask(question, filings, failed=()):
    turn = Turn("c", "m", [{"role": "user", "content": question}], filings, failed=list(failed))
    events = [e async for e in run_turn(DemoAnalyst(delay=0), default_toolbox(), turn)]
    assert events[-1].type == "message_complete" and events[-1].success
    text = "".join(e.text for e in events if e.type == "text_delta")
    return events, text


def of(events, kind):
    return [getattr(e, f"{kind}_data") for e in events if e.type == f"{kind}_ready"]


async def test_comparison_of_two_companies_names_both_everywhere(apple_10k, salesforce):
    events, text = await ask("Compare Apple and Salesforce revenue", [apple_10k, salesforce])
    (chart,) = of(events, "chart")
    series = {s["name"]: dict(zip(chart["spec"]["x"], s["values"], strict=True)) for s in chart["spec"]["series"]}
    # Reference values (SOURCES.md): Apple FY2024 391,035M; Salesforce FY2025 37,895M.
    assert series["Apple Inc."]["FY2024"] == 391_035_000_000
    assert series["Salesforce, Inc."]["FY2025"] == 37_895_000_000
    assert "Apple Inc." in chart["spec"]["title"] and "Salesforce, Inc." in chart["spec"]["title"]
    # Each company's points come from its own filing only.
    apple = next(s for s in chart["spec"]["series"] if s["name"] == "Apple Inc.")
    assert {src["document"] for src in apple["sources"] if src} == {"aapl-10-k-2024-11-01.html"}
    tiles = [m["label"] for m in of(events, "metric")]
    assert any(t.startswith("Apple Inc.") for t in tiles) and any(t.startswith("Salesforce, Inc.") for t in tiles)
    (table,) = of(events, "table")
    names = [c["name"] for c in table["columns"][1:]]
    assert names == ["Apple Inc. Revenue", "Salesforce, Inc. Revenue"]
    assert "Apple Inc." in text and "Salesforce, Inc." in text


async def test_calendarised_comparison_puts_fiscal_years_in_their_calendar_year(apple_10k, salesforce):
    events, _text = await ask("Compare Apple and Salesforce revenue by calendar year", [apple_10k, salesforce])
    (chart,) = of(events, "chart")
    x = chart["spec"]["x"]
    crm = next(s for s in chart["spec"]["series"] if s["name"] == "Salesforce, Inc.")
    # Salesforce's FY2025 runs Feb 2024 - Jan 2025: most of it is in 2024.
    assert dict(zip(x, crm["values"], strict=True))["CY2024"] == 37_895_000_000


async def test_risk_factors_are_quoted_from_the_risk_factors_section(apple_10k):
    events, text = await ask("What are the main risk factors?", [apple_10k])
    search = next(e for e in events if e.type == "tool_complete" and e.tool_name == "search_filing")
    hits = search.result["results"]
    assert hits and all("Risk Factors" in h["section"] for h in hits)
    assert "Part I, Item 1A. Risk Factors" in text
    assert text.count("> \"") >= 3  # passages quoted, each with its source line
    first_words = " ".join(hits[0]["text"].split()[:8])
    assert first_words.split()[0] in text
    assert not of(events, "chart")  # a text question is not answered with a revenue chart


async def test_a_failed_file_named_in_the_question_is_reported_not_replaced(apple_10k):
    failed = [{"filename": "uber_2021.pdf", "error": "uber_2021.pdf: encrypted PDF, cannot read text"}]
    events, text = await ask("What was Uber's revenue in uber_2021.pdf?", [apple_10k], failed)
    assert "uber_2021.pdf" in text and "could not be read" in text and "encrypted PDF" in text
    assert "Upload" in text
    assert not of(events, "chart") and not of(events, "metric") and not of(events, "table")
    assert "391" not in text  # nothing from Apple's filing
    assert [e.tool_name for e in events if e.type == "tool_complete"] == ["list_filings"]


async def test_a_company_not_loaded_is_named_with_what_to_upload(apple_10k):
    events, text = await ask("What was Microsoft's net income?", [apple_10k])
    assert "no filing of **Microsoft**" in text and "Upload Microsoft's 10-K" in text
    assert not of(events, "metric") and "93.7" not in text  # Apple's FY2024 net income is not offered


async def test_a_figure_the_filings_lack_is_said_plainly():
    path = FILINGS / "corpus" / "wfc-10-k-2024-12-31.html"
    wfc = ingest(path.name, path.read_bytes())
    events, text = await ask("What was the revenue trend?", [wfc])
    assert "do not report that figure" in text and "wfc-10-k-2024-12-31.html" in text
    assert not of(events, "chart")


async def test_revenue_by_segment_chart_from_dimensional_facts(apple_10k):
    events, text = await ask("Show Apple's revenue by segment", [apple_10k])
    (chart,) = of(events, "chart")
    spec = chart["spec"]
    assert spec["title"] == "Apple Inc.: Revenue by segment"
    fy24 = dict(zip(spec["x"], next(s for s in spec["series"] if s["name"] == "FY2024")["values"], strict=True))
    # Apple 10-K FY2024 segment note: Americas 167,045; Europe 101,328; Greater China 66,952;
    # Japan 25,052; Rest of Asia Pacific 30,658 ($M), adding up to net sales of 391,035.
    assert fy24["Americas"] == 167_045_000_000 and fy24["Greater China"] == 66_952_000_000
    assert sum(fy24.values()) == 391_035_000_000


async def test_products_leave_out_the_products_subtotal(apple_10k):
    events, _text = await ask("Show revenue by product", [apple_10k])
    (chart,) = of(events, "chart")
    fy24 = dict(zip(chart["spec"]["x"], chart["spec"]["series"][-1]["values"], strict=True))
    assert "Products" not in fy24 and fy24["iPhone"] == 201_183_000_000
    assert sum(fy24.values()) == 391_035_000_000


async def test_cash_question_labels_cash_and_marketable_securities(apple_10k):
    events, text = await ask("How much cash does Apple have?", [apple_10k])
    tiles = {m["label"]: m["value"] for m in of(events, "metric")}
    # Apple balance sheet, 2024-09-28: 29,943 / 35,228 / 91,479 ($M).
    assert tiles["Apple Inc. · Cash and cash equivalents FY2024"] == 29_943_000_000
    assert tiles["Apple Inc. · Current marketable securities FY2024"] == 35_228_000_000
    assert tiles["Apple Inc. · Non-current marketable securities FY2024"] == 91_479_000_000
    assert "$156.7B" in text  # their sum, 156,650


async def test_a_text_question_on_a_figures_only_filing_says_what_to_upload(apple):
    events, text = await ask("What are the main risk factors?", [apple])
    assert "figures only, no text passages" in text and "upload Apple Inc.'s 10-K" in text
    assert "You sent" not in text  # the tool's echo of its input is not the reader's business
    assert not of(events, "chart")


@pytest.mark.parametrize(
    "question",
    ["What is the revenue trend?", "How have margins changed?", "Compare net income across periods",
     "What does the balance sheet show?", "What is the EPS and ROE?", "Show the MD&A discussion of liquidity",
     "What was revenue in FY2024?", "Is the CEO worried about AI?"],
)
def test_ordinary_questions_name_no_company(question):
    from finstream.providers.demo_plan import name_candidates

    assert name_candidates(question) == []


async def test_a_lowercase_company_not_loaded_is_not_answered_from_another(apple_10k, salesforce):
    events, text = await ask("What was the revenue trend of wfc?", [apple_10k, salesforce])
    assert "no filing of **wfc**" in text
    assert not of(events, "chart") and "37.9" not in text and "391" not in text


def test_names_in_questions_are_found():
    from finstream.providers.demo_plan import name_candidates

    assert name_candidates("Compare Apple vs Microsoft on revenue") == ["Apple", "Microsoft"]
    assert name_candidates("What is Home Depot's revenue by segment?") == ["Home Depot"]
    assert name_candidates("What does uber_2021.pdf say?") == ["uber_2021.pdf"]
    assert name_candidates("Revenue of MSFT") == ["MSFT"]
    assert name_candidates("What was the revenue trend of wfc?") == ["wfc"]
    assert name_candidates("What is the outlook for growth?") == []


async def test_the_only_upload_failed(apple):
    failed = [{"filename": "uber_2021.pdf", "error": "uber_2021.pdf: not a PDF (no %PDF header)"}]
    events, text = await ask("Summarise uber_2021.pdf", [], failed)
    assert "uber_2021.pdf" in text and "could not be read" in text and "not a PDF" in text
    assert "No readable filing is loaded" in text
