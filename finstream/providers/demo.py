"""The demo analyst: an offline, deterministic provider that answers from the uploaded filings.

It behaves like a model: it first calls list_filings to see what is loaded, then streams words,
calls the data tools with the JSON a model would send, reads their results from the conversation,
and then calls the output tools. It knows the filings only from those tool results (never the
parsed filings), so everything after the provider (assembler, tools, runs, every surface) runs for
real without an API key.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from finstream.providers import demo_answers as answers
from finstream.providers.base import BlockStop, Finish, Part, ProviderRequest
from finstream.providers.demo_listing import Listed, Listing, read_listing
from finstream.providers.demo_plan import (
    CASH_ITEMS,
    Plan,
    Series,
    describe,
    join_words,
    margins,
    name_candidates,
    pct_change,
    plan_for,
    series_from_result,
)
from finstream.providers.scripted import text_parts, tool_parts
from finstream.tools.compare import company_name, group_by_company, mentions

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
        rounds = [self._results(m["content"]) for m in tail
                  if m["role"] == "user" and isinstance(m["content"], list)]
        # The last round's results (name, input, result, is_error): what the next step answers from.
        self.results: list[tuple[str, dict, Any, bool]] = rounds[-1] if tail and tail[-1]["role"] == "user" \
            and rounds else []
        # What this turn's list_filings call said is loaded; None before it was called (a failed
        # call reads as nothing loaded, so the demo never asks again and again).
        listed = [None if err else r for results in rounds for n, _a, r, err in results if n == "list_filings"]
        self.listing: Listing | None = read_listing(listed[-1]) if listed else None

    def _results(self, content: list[dict[str, Any]]) -> list[tuple[str, dict, Any, bool]]:
        out = []
        for b in content:
            if b.get("type") == "tool_result":
                name, args = self.calls.get(b["tool_use_id"], ("?", {}))
                try:
                    value = json.loads(b.get("content") or "null")
                except (TypeError, json.JSONDecodeError):
                    value = b.get("content")
                out.append((name, args, value, bool(b.get("is_error"))))
        return out


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


def _target_filing(question: str, filings: list[Listed]) -> Listed:
    """The filing the question names (company, ticker or file name), else the latest upload."""
    for filing in reversed(filings):
        if mentions(filing, question):
            return filing
    return filings[-1]


def _named_groups(question: str, filings: list[Listed]) -> list[tuple[str, list[Listed]]]:
    """The loaded companies the question names, in the order it names them."""
    groups = [g for g in group_by_company(filings) if any(mentions(f, question) for f in g[1])]
    low = question.lower()

    def first_mention(group: tuple[str, list[Listed]]) -> int:
        spots = [low.find(w) for f in group[1] for w in _name_words(f) if low.find(w) >= 0]
        return min(spots, default=len(low))

    return sorted(groups, key=first_mention)


def _name_words(filing: Listed) -> list[str]:
    words = [filing.filename.lower(), filing.filename.rsplit(".", 1)[0].lower()]
    if filing.ticker:
        words.append(filing.ticker.lower())
    if filing.company:
        words.append(filing.company.lower().split()[0].strip(",."))
    return words


def _unknown_names(question: str, filings: list[Listed]) -> list[str]:
    """Names in the question that match no loaded filing, nor any of its section or table titles
    (so "Greater China" in an Apple question is not taken for a company)."""
    return [name for name in name_candidates(question)
            if not any(mentions(f, name) or f.shows(name) for f in filings)]


def _is_comparison(question: str, plan: Plan, filings: list[Listed], named: list[tuple[str, list[Listed]]]) -> bool:
    if len(named) >= 2:
        return plan.intent not in ("text", "segments")
    several = len(group_by_company(filings)) >= 2
    asks = re.search(r"compar|versus|\bvs\b|\bboth\b|each company|companies|side by side", question, re.I)
    return bool(several and asks and not named and plan.intent not in ("text", "segments"))


class DemoAnalyst:
    name = "demo"

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Part]:
        conv = _Conversation(request.messages)
        text, calls, stop = self._respond(conv)
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
    def _respond(self, conv: _Conversation) -> tuple[str, list, str]:
        if conv.listing is None:  # first, like a model: what is loaded?
            intro = "" if conv.continuing else "Let me check which filings are loaded.\n\n"
            return intro, [("list_filings", {})], "tool_use"
        filings = conv.listing.filings
        if not filings and conv.stage == 1 and not name_candidates(conv.question):
            return (
                "There are no filings in this conversation yet. Upload a 10-K, 10-Q, 8-K press "
                "release, XBRL file, SEC companyfacts JSON, PDF, CSV or Excel export, and ask me "
                "about its revenue, margins, growth or balance sheet.",
                [],
                "end_turn",
            )
        plan = plan_for(conv.question)
        if filings and plan.period_type == "annual" and _target_filing(conv.question, filings).quarters_only:
            plan.period_type = "quarterly"  # a quarter's release or a 10-Q: answer with its quarters
        if conv.stage == 1:
            unknown = _unknown_names(conv.question, filings)
            named = _named_groups(conv.question, filings)
            if unknown and not (named and _is_comparison(conv.question, plan, filings, named)):
                # A company or file that is not loaded (or failed to load): say so, answer nothing.
                return answers.missing_answer(unknown, conv.listing.failed, filings), [], "end_turn"
            text, calls = self._look_up(conv.question, plan, filings)
            return (text if not conv.continuing else ""), calls, "tool_use"
        if conv.stage == 2:
            return self._answer(conv, plan, filings)
        return self._closing(conv), [], "end_turn"

    def _look_up(self, question: str, plan: Plan, filings: list[Listed]) -> tuple[str, list]:
        """After the listing: which tools to call for this question."""
        unknown = _unknown_names(question, filings)
        named = _named_groups(question, filings)
        if _is_comparison(question, plan, filings, named) or (unknown and named):
            companies = [name for name, _fs in named] + unknown if (named or unknown) else None
            metrics = plan.metrics[:2] if plan.intent != "cash" else ["cash"]
            who = join_words([n for n, _f in named] or [n for n, _f in group_by_company(filings)])
            calls = [("compare_companies", {"metric": m, **({"companies": companies} if companies else {}),
                                            "align": "calendar_year" if re.search(r"calendar", question, re.I)
                                            else "fiscal_year", "limit": 5}) for m in metrics]
            return f"Let me line up {join_words(metrics)} for {who}, year by year.\n\n", calls
        target = _target_filing(question, filings)
        company = company_name(target)
        if plan.intent == "text":
            group = next((fs for name, fs in group_by_company(filings) if target in fs), [target])
            with_text = [f for f in group if f.sections] or [target]
            calls = [("search_filing", {"query": plan.query, "filing": f.filename, "limit": 4,
                                        **({"section": plan.section} if plan.section else {})})
                     for f in with_text[-1:]]
            return f"Let me search {answers.possessive(company)} filing text.\n\n", calls
        if plan.intent == "segments":
            return (f"Let me pull {answers.possessive(company)} {plan.metrics[0]} by {plan.breakdown} "
                    f"from its XBRL facts.\n\n", [("get_segment_data", {
                        "metric": plan.metrics[0], "breakdown": plan.breakdown, "filing": target.filename,
                        "period_type": plan.period_type, "limit": 3})])
        names = join_words([CASH_ITEMS.get(m, m).lower() for m in plan.metrics])
        intro = f"Let me pull {names} from {target.filename} ({company}).\n\n"
        calls = [
            ("get_financial_data",
             {"metric": m, "filing": target.filename, "period_type": plan.period_type, "limit": 5})
            for m in plan.metrics
        ]
        return intro, calls

    def _answer(self, conv: _Conversation, plan: Plan, filings: list[Listed]) -> tuple[str, list, str]:
        """Words and output tools from what the data tools returned."""
        tools = {name for name, *_rest in conv.results}
        errors = [str(r) for _n, _a, r, err in conv.results if err]
        target = _target_filing(conv.question, filings) if filings else None
        company = company_name(target) if target is not None else "these filings"
        if "compare_companies" in tools:
            found = [r for n, _a, r, e in conv.results if n == "compare_companies" and not e]
            if not found:
                why = "; ".join(answers.reason(e) for e in errors)
                return "I cannot compare them: " + answers.inert(why) + "\n\n", [], "end_turn"
            text, calls = answers.comparison(found)
            if errors:
                why = "; ".join(answers.reason(e) for e in errors)
                text = "Some of it is missing: " + answers.inert(why) + ".\n\n" + text
            return text, calls, "tool_use"
        if "search_filing" in tools:
            hits = [h for n, _a, r, e in conv.results if n == "search_filing" and not e for h in r["results"]]
            if not hits:
                figures_only = target is not None and target.format == "companyfacts"
                return answers.no_text(company, "; ".join(errors), figures_only), [], "end_turn"
            topic = plan.section or plan.query
            return answers.text_answer(topic, company, hits), [], "end_turn"
        if "get_segment_data" in tools:
            found = [r for n, _a, r, e in conv.results if n == "get_segment_data" and not e]
            if not found:
                return answers.missing_figures(company, errors), [], "end_turn"
            text, calls = answers.segments(found[0], plan.breakdown)
            return text, calls, "tool_use"
        found = [
            s
            for name, args, result, err in conv.results
            if name == "get_financial_data" and not err
            for s in [series_from_result(args.get("metric", "?"), result)]
            if s
        ]
        if found:
            for s in found:
                s.label = CASH_ITEMS.get(s.metric, s.label) if plan.intent == "cash" else s.label
            return self._analysis(plan, found, company)
        return answers.missing_figures(company, errors), [], "end_turn"

    def _analysis(self, plan: Plan, found: list[Series], company: str) -> tuple[str, list, str]:
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
                    "title": f"{company}: margins", "chart_type": "line", "x": x, "series": series,
                    "unit": "%", "y_label": "% of revenue", "sources": revenue.sources[-1:],
                }))
        else:
            aligned = [s for s in found if s.periods == lead.periods and s.unit == lead.unit]
            kind = "grouped_bar" if plan.intent in ("compare", "balance", "cash") else "line"
            if plan.intent == "growth":
                growth = [None] + [pct_change(b, a) for a, b in zip(lead.values, lead.values[1:], strict=False)]
                calls.append(("create_chart", {
                    "title": f"{company}: {lead.label.lower()} growth", "chart_type": "bar", "x": lead.periods,
                    "series": [{"name": "Growth %", "values": [round(g, 2) if g is not None else None for g in growth]}],
                    "unit": "%", "y_label": "% change", "sources": lead.sources,
                }))
            else:
                calls.append(("create_chart", {
                    "title": f"{company}: " + join_words([s.label for s in aligned]) + " by period",
                    "chart_type": kind, "x": lead.periods,
                    "series": [{"name": s.label, "values": s.values, "sources": s.sources} for s in aligned],
                    "unit": lead.unit, "y_label": lead.unit,
                }))
        for s in found[:3]:
            delta = pct_change(s.values[-1], s.values[-2]) if len(s.values) >= 2 else None
            calls.append(("create_metric", {
                "label": f"{company} · {s.label} {s.periods[-1]}", "value": s.values[-1], "unit": s.unit,
                "company": company,
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
        if plan.intent == "cash":
            latest = [s for s in found if s.periods[-1] == lead.periods[-1]]
            total = sum(s.values[-1] for s in latest)
            paragraphs.append(
                f"Together, {join_words([s.label.lower() for s in latest])} came to "
                f"{answers.format_value(total, 'USD')} at the end of {lead.periods[-1]}."
            )
        calls.append(("create_table", {
            "title": f"{company}: figures by period", "columns": columns, "rows": rows,
            "unit_note": "USD millions" if lead.unit == "USD" else None, "sources": sources,
        }))
        text = " ".join(p for p in paragraphs if p) + "\n\n"
        return text, calls, "tool_use"

    def _closing(self, conv: _Conversation) -> str:
        return (
            "The chart, metric tiles and table beside this answer show the figures with their "
            "sources (hover a point to see its filing, concept and period). This is the offline demo "
            "analyst; set ANTHROPIC_API_KEY for Claude's own analysis."
        )
