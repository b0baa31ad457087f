"""The demo analyst: an offline, deterministic provider that answers from the uploaded filings.

It behaves like a model: it streams words, calls the data tools with the JSON a model would send,
reads their results from the conversation, and then calls the output tools. So everything after
the provider (assembler, tools, runs, every surface) runs for real without an API key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from finstream.providers.base import BlockStop, Finish, Part, ProviderRequest
from finstream.providers.demo_plan import (
    Plan,
    Series,
    describe,
    join_words,
    margins,
    pct_change,
    plan_for,
    series_from_result,
)
from finstream.providers.scripted import text_parts, tool_parts

CONTINUE_MARK = "previous answer was cut off"  # see finstream.agent.CONTINUE_PROMPT


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")


def _is_question(message: dict[str, Any]) -> bool:
    if message["role"] != "user":
        return False
    content = message["content"]
    return isinstance(content, str) or any(b.get("type") == "text" for b in content)


class _Conversation:
    """Where the current turn stands, read from the messages like a model would."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        asks = [i for i, m in enumerate(messages) if _is_question(m)]
        last = asks[-1] if asks else -1
        self.continuing = last >= 0 and CONTINUE_MARK in _text_of(messages[last]["content"])
        self.said = ""
        if self.continuing:
            earlier = [i for i in asks[:-1] if CONTINUE_MARK not in _text_of(messages[i]["content"])]
            start = earlier[-1] if earlier else last
            self.question = _text_of(messages[start]["content"]) if earlier else ""
            self.said = "".join(_text_of(m["content"]) for m in messages[start:last] if m["role"] == "assistant")
        else:
            self.question = _text_of(messages[last]["content"]) if last >= 0 else ""
        tail = messages[last + 1 :]
        self.stage = sum(1 for m in tail if m["role"] == "assistant")
        self.calls: dict[str, tuple[str, dict]] = {}
        for m in tail:
            if m["role"] == "assistant" and isinstance(m["content"], list):
                for b in m["content"]:
                    if b.get("type") == "tool_use":
                        self.calls[b["id"]] = (b["name"], b.get("input") or {})
        self.results: list[tuple[str, dict, Any, bool]] = []  # name, input, result, is_error
        if tail and tail[-1]["role"] == "user" and isinstance(tail[-1]["content"], list):
            for b in tail[-1]["content"]:
                if b.get("type") == "tool_result":
                    name, args = self.calls.get(b["tool_use_id"], ("?", {}))
                    try:
                        value = json.loads(b.get("content") or "null")
                    except (TypeError, json.JSONDecodeError):
                        value = b.get("content")
                    self.results.append((name, args, value, bool(b.get("is_error"))))


def _unsaid(text: str, said: str) -> str:
    """The part of ``text`` a continuation still has to write."""
    if not said or not text:
        return text
    if text in said:
        return ""
    for k in range(min(len(text), len(said)), 0, -1):
        if said.endswith(text[:k]):
            return text[k:]
    return text


def _target_filing(question: str, filings: list) -> Any:
    """The filing the question names (company, ticker or file name), else the latest upload."""
    q = question.lower()
    for filing in reversed(filings):
        words = [filing.ticker, filing.filename.rsplit(".", 1)[0]]
        if filing.company:
            words.append(filing.company.split()[0].strip(",."))
        if any(w and len(w) > 1 and w.lower() in q for w in words):
            return filing
    return filings[-1]


class DemoAnalyst:
    name = "demo"

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Part]:
        conv = _Conversation(request.messages)
        filings = request.context or []
        text, calls, stop = self._respond(conv, filings)
        text = _unsaid(text, conv.said)
        out_tokens = 0
        for part in text_parts(text):
            yield part
            out_tokens += 1
            await asyncio.sleep(self.delay)
        if text:
            yield BlockStop(0)
        for part in tool_parts(calls, start_index=1, id_prefix=f"toolu_demo{conv.stage}_"):
            yield part
        await asyncio.sleep(0)
        in_tokens = sum(len(json.dumps(m["content"])) for m in request.messages) // 4
        yield Finish(stop, {"input_tokens": in_tokens, "output_tokens": out_tokens + 20 * len(calls)})

    # Each stage returns (text, tool calls, stop_reason).
    def _respond(self, conv: _Conversation, filings: list) -> tuple[str, list, str]:
        if not filings:
            return (
                "There are no filings in this conversation yet. Upload a 10-K, 10-Q, 8-K press "
                "release, XBRL file, SEC companyfacts JSON, PDF, CSV or Excel export, and ask me "
                "about its revenue, margins, growth or balance sheet.",
                [],
                "end_turn",
            )
        plan = plan_for(conv.question)
        if conv.stage == 0:
            target = _target_filing(conv.question, filings)
            names = join_words(plan.metrics)
            intro = f"Let me pull {names} from {target.filename}.\n\n"
            calls = [
                (
                    "get_financial_data",
                    {"metric": m, "filing": target.filename, "period_type": plan.period_type, "limit": 5},
                )
                for m in plan.metrics
            ]
            return (intro if not conv.continuing else ""), calls, "tool_use"
        if conv.stage == 1:
            found = [
                s
                for name, args, result, err in conv.results
                if name == "get_financial_data" and not err
                for s in [series_from_result(args.get("metric", "?"), result)]
                if s
            ]
            if found:
                return self._analysis(plan, found)
            query = conv.question[:200] or "revenue"
            return "I could not find those figures as structured data, so let me search the text.\n\n", [
                ("search_filing", {"query": query, "limit": 3})
            ], "tool_use"
        return self._closing(conv), [], "end_turn"

    def _analysis(self, plan: Plan, found: list[Series]) -> tuple[str, list, str]:
        by_metric = {s.metric: s for s in found}
        lead = found[0]
        per = "year" if plan.period_type == "annual" else "quarter"
        paragraphs = [describe(s, per) for s in found]
        calls: list[tuple[str, dict]] = []
        revenue = by_metric.get("revenue")
        if plan.intent == "margins" and revenue:
            x = revenue.periods
            series = []
            for s in found:
                if s.metric == "revenue":
                    continue
                m = margins(revenue, s)
                if any(v is not None for v in m) and len(m) == len(x):
                    series.append({"name": f"{s.label} margin", "values": m})
                    paragraphs.append(
                        f"{s.label} margin was {m[-1]:.1f}% in {x[-1]}." if m[-1] is not None else ""
                    )
            if series:
                calls.append(("create_chart", {
                    "title": "Margins", "chart_type": "line", "x": x, "series": series,
                    "unit": "%", "y_label": "% of revenue", "sources": revenue.sources[-1:],
                }))
        else:
            aligned = [s for s in found if s.periods == lead.periods and s.unit == lead.unit]
            kind = "grouped_bar" if plan.intent in ("compare", "balance") else "line"
            if plan.intent == "growth":
                growth = [None] + [pct_change(b, a) for a, b in zip(lead.values, lead.values[1:], strict=False)]
                calls.append(("create_chart", {
                    "title": f"{lead.label} growth", "chart_type": "bar", "x": lead.periods,
                    "series": [{"name": "Growth %", "values": [round(g, 2) if g is not None else None for g in growth]}],
                    "unit": "%", "y_label": "% change", "sources": lead.sources,
                }))
            else:
                calls.append(("create_chart", {
                    "title": " and ".join(s.label for s in aligned) + " by period",
                    "chart_type": kind, "x": lead.periods,
                    "series": [{"name": s.label, "values": s.values, "sources": s.sources} for s in aligned],
                    "unit": lead.unit, "y_label": lead.unit,
                }))
        for s in found[:3]:
            delta = pct_change(s.values[-1], s.values[-2]) if len(s.values) >= 2 else None
            calls.append(("create_metric", {
                "label": f"{s.label} {s.periods[-1]}", "value": s.values[-1], "unit": s.unit,
                "delta": round(delta, 2) if delta is not None else None, "delta_unit": "percent",
                "delta_color": "normal", "period": s.periods[-1], "sources": s.sources[-1:],
            }))
        columns = [{"name": "Period", "format": "text"}] + [
            {"name": s.label, "format": "currency" if s.unit == "USD" else "number"} for s in found
        ]
        # Dollars are shown in millions, as filings print them.
        def cell(s: Series, period: str) -> float | None:
            value = dict(zip(s.periods, s.values, strict=False)).get(period)
            if value is None or s.unit != "USD":
                return value
            return round(value / 1e6, 1)

        rows = [[period] + [cell(s, period) for s in found] for period in lead.periods]
        sources = [src for s in found for src in s.sources[-1:]]
        calls.append(("create_table", {
            "title": "Figures by period", "columns": columns, "rows": rows,
            "unit_note": "USD millions" if lead.unit == "USD" else None, "sources": sources,
        }))
        text = " ".join(p for p in paragraphs if p) + "\n\n"
        return text, calls, "tool_use"

    def _closing(self, conv: _Conversation) -> str:
        passages = [r for name, _a, r, err in conv.results if name == "search_filing" and not err]
        if passages and isinstance(passages[0], dict) and passages[0].get("results"):
            hits = passages[0]["results"][:3]
            quoted = "\n".join(
                f"- {h.get('section') or ('page ' + str(h.get('page')))}: {str(h.get('text', ''))[:240]}"
                for h in hits
            )
            return "Here is what the filing says:\n\n" + quoted
        return (
            "The chart, metric tiles and table beside this answer show the figures with their "
            "sources (hover a point to see its filing, concept and period). This is the offline demo "
            "analyst; set ANTHROPIC_API_KEY for Claude's own analysis."
        )
