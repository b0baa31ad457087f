"""The data tools over real filings, through the real Toolbox, and the demo analyst using them."""

from __future__ import annotations

import json

import pytest

from finstream.agent import Turn, run_turn
from finstream.providers.demo import DemoAnalyst
from finstream.tools import default_toolbox
from finstream.tools.base import ToolContext, ToolInputError
from finstream.tools.data import DATA_TOOLS

TOOLBOX = default_toolbox()


async def call(name: str, args: dict, filings: list) -> dict:
    model = TOOLBOX.validate(name, args)
    outcome = await TOOLBOX.execute(name, model, ToolContext(filings=filings))
    text = json.dumps(outcome.result)  # JSON-serializable, and compact
    assert len(text) < 20_000
    return json.loads(text)


@pytest.fixture(scope="module")
def facts(parsed):
    return parsed("CIK0000320193.json")


def test_tools_are_registered_with_described_json_schemas():
    assert [t.name for t in DATA_TOOLS] == [
        "list_filings",
        "search_filing",
        "get_financial_data",
        "get_table",
        "compare_companies",
        "get_segment_data",
    ]
    assert set(TOOLBOX.names()) >= {t.name for t in DATA_TOOLS}
    for tool in DATA_TOOLS:
        schema = tool.schema()
        assert schema["description"]
        for name, prop in schema["input_schema"].get("properties", {}).items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
    fin = next(t for t in DATA_TOOLS if t.name == "get_financial_data").schema()["input_schema"]
    assert fin["required"] == ["metric"]
    assert fin["properties"]["period_type"]["enum"] == ["annual", "quarterly", "all"]


async def test_get_financial_data_annual_revenue_and_net_income_from_companyfacts(facts):
    for metric, fy2023 in (("revenue", 383_285_000_000), ("net income", 96_995_000_000)):
        r = await call(
            "get_financial_data", {"metric": metric, "period_type": "annual", "limit": 5}, [facts]
        )
        assert set(r) == {"concept", "label", "unit", "points"} and r["unit"] == "USD"
        pts = r["points"]
        assert [p["period"] for p in pts] == ["FY2021", "FY2022", "FY2023", "FY2024", "FY2025"]
        assert [p["end"] for p in pts] == sorted(p["end"] for p in pts)
        assert dict((p["period"], p["value"]) for p in pts)["FY2023"] == fy2023
        for p in pts:
            assert set(p) == {"period", "start", "end", "value", "source", "fact_id"}
            days = (_d(p["end"]) - _d(p["start"])).days
            assert 350 <= days <= 380
            assert p["source"]["document"] == "CIK0000320193.json"
            assert (
                p["source"]["concept"].startswith("us-gaap:") and "accn" in p["source"]["context"]
            )


async def test_quarterly_points_are_three_month_periods(facts):
    r = await call(
        "get_financial_data", {"metric": "revenue", "period_type": "quarterly", "limit": 8}, [facts]
    )
    assert len(r["points"]) == 8
    for p in r["points"]:
        assert 80 <= (_d(p["end"]) - _d(p["start"])).days <= 100
        assert p["period"].startswith("Q")


async def test_exact_concept_and_errors(facts):
    r = await call("get_financial_data", {"metric": "us-gaap:NetIncomeLoss", "limit": 2}, [facts])
    assert r["concept"] == "us-gaap:NetIncomeLoss" and len(r["points"]) == 2
    with pytest.raises(ToolInputError, match="neither a common metric"):
        await call("get_financial_data", {"metric": "flux capacitance"}, [facts])
    with pytest.raises(ToolInputError, match="no filing named 'nope.pdf'"):
        await call("get_financial_data", {"metric": "revenue", "filing": "nope.pdf"}, [facts])
    with pytest.raises(ToolInputError, match="no filings are loaded"):
        await call("get_financial_data", {"metric": "revenue"}, [])
    with pytest.raises(ToolInputError, match="invalid input"):
        TOOLBOX.validate("get_financial_data", {"metric": "revenue", "period_type": "weekly"})


async def test_search_filing_ranks_passages_with_sections_and_pages(parsed):
    tenk = parsed("aapl-10-k-2024-11-01.html")
    r = await call("search_filing", {"query": "iPhone net sales", "limit": 3}, [tenk])
    assert len(r["results"]) == 3
    top = r["results"][0]
    assert "iPhone" in top["text"] and "Item 7" in top["section"]
    assert [h["score"] for h in r["results"]] == sorted(
        (h["score"] for h in r["results"]), reverse=True
    )
    uber = parsed("uber_2021.pdf")
    r = await call(
        "search_filing",
        {"query": "driver classification independent contractors", "filing": "uber_2021.pdf"},
        [tenk, uber],
    )
    assert all(h["filing"] == "uber_2021.pdf" and isinstance(h["page"], int) for h in r["results"])
    with pytest.raises(ToolInputError, match="nothing in the filing text"):
        await call("search_filing", {"query": "zzzyqx"}, [tenk])


async def test_get_table_by_title_and_by_index(parsed):
    tenk = parsed("aapl-10-k-2024-11-01.html")
    r = await call("get_table", {"title": "consolidated statements of operations"}, [tenk])
    assert "STATEMENTS OF OPERATIONS" in r["title"]
    assert ["Total net sales", 391035.0, 383285.0, 394328.0] in r["rows"]
    assert r["source"]["document"] == tenk.filename and r["source"]["table"] == r["title"]
    again = await call(
        "get_table", {"filing": tenk.filename, "index": r["index"], "max_rows": 3}, [tenk]
    )
    assert again["rows"] == r["rows"][:3] and again["truncated"] is True
    pdf = parsed("uber_2021.pdf")
    t = await call(
        "get_table", {"filing": "uber_2021.pdf", "title": "revenue loss from operations"}, [pdf]
    )
    assert t["source"]["page"]
    with pytest.raises(ToolInputError, match=f"has {len(tenk.tables)} tables"):
        await call("get_table", {"index": 99}, [tenk])
    with pytest.raises(ToolInputError, match="give 'index'"):
        await call("get_table", {}, [tenk])


async def test_list_filings(parsed, facts):
    r = await call("list_filings", {}, [facts, parsed("Financial_Report.xlsx")])
    first, second = r["filings"]
    assert first["company"] == "Apple Inc." and first["format"] == "companyfacts"
    assert {"revenue", "net income", "total assets"} <= set(first["metrics"])
    assert second["form"] == "10-Q" and second["table_count"] == 42
    assert first["period_types"] == ["annual", "quarterly"]  # the get_financial_data period_type it answers


async def test_many_filings_are_all_listed_with_fewer_titles_each(parsed):
    tenk = parsed("aapl-10-k-2024-11-01.html")
    copies = [tenk.model_copy(update={"filename": f"copy-{i}.html"}) for i in range(6)]
    r = await call("list_filings", {}, copies)
    assert [f["filename"] for f in r["filings"]] == [f"copy-{i}.html" for i in range(6)]
    assert "truncated" not in r and 0 < len(r["filings"][0]["tables"]) < 40


async def test_demo_analyst_charts_apple_revenue_and_net_income_with_sources(facts):
    turn = Turn(
        "conv-demo",
        "msg-demo",
        [{"role": "user", "content": "show Apple's revenue and net income trend"}],
        filings=[facts],
    )
    events = [e async for e in run_turn(DemoAnalyst(delay=0), TOOLBOX, turn, max_rounds=4)]
    done = events[-1]
    assert done.type == "message_complete" and done.success
    data_calls = [
        e for e in events if e.type == "tool_complete" and e.tool_name == "get_financial_data"
    ]
    assert len(data_calls) == 2 and not any(e.error for e in data_calls)
    chart = next(e for e in events if e.type == "chart_ready").chart_data
    spec = chart["spec"]
    assert spec["x"][-1] == "FY2025" and len(spec["series"]) == 2
    revenue = next(s for s in spec["series"] if s["name"] == "Revenue")
    assert revenue["values"][spec["x"].index("FY2023")] == 383_285_000_000
    assert revenue["sources"] and all(
        s["document"] == "CIK0000320193.json" for s in revenue["sources"]
    )


def _d(text: str):
    from datetime import date

    return date.fromisoformat(text)


async def test_series_never_mix_companies_unless_a_filing_is_named(parsed, facts):
    snow = parsed("snow_facts.json")
    tenk = parsed("aapl-10-k-2024-11-01.html")
    r = await call("get_financial_data", {"metric": "revenue", "limit": 40}, [facts, snow, tenk])
    assert {p["source"]["document"] for p in r["points"]} <= {"CIK0000320193.json", "aapl-10-k-2024-11-01.html"}
    r = await call("get_financial_data", {"metric": "revenue", "filing": "snow_facts.json"}, [facts, snow])
    assert r["points"][-1]["value"] == 3_626_396_000


async def test_tools_give_the_model_true_periods_derived_marks_and_warnings(parsed):
    hd = parsed("corpus/hd-10-q-2023-07-30.html")
    mrvl = parsed("corpus/mrvl-companyfacts-2026-05-28.json")
    listed = (await call("list_filings", {}, [hd, mrvl]))["filings"]
    assert listed[0]["fiscal_period"] == "Q2 FY2023"
    assert "--01-28" in listed[0]["fiscal_calendar"] and "begins" in listed[0]["fiscal_calendar"]
    q = await call("get_financial_data", {"metric": "revenue", "filing": hd.filename, "period_type": "quarterly"}, [hd])
    assert [(p["period"], p["value"]) for p in q["points"]][-1] == ("Q2 FY2023", 42_916_000_000)
    ytd = await call("get_financial_data", {"metric": "revenue", "filing": hd.filename, "period_type": "all"}, [hd])
    assert ("H1 FY2023", 80_173_000_000) in [(p["period"], p["value"]) for p in ytd["points"]]
    m = await call("get_financial_data", {"metric": "revenue", "filing": mrvl.filename, "period_type": "quarterly",
                                          "limit": 8}, [mrvl])
    q4 = next(p for p in m["points"] if p["period"] == "Q4 FY2026")
    assert q4["derived"] and len(q4["derived_from"]) == 2
    pdf = parsed("corpus/crm-ex99-1-2023-04-30.pdf")
    listed = (await call("list_filings", {}, [pdf]))["filings"]
    assert listed[0]["fiscal_period"] == "Q1 FY2024" and listed[0]["company"] == "Salesforce"
