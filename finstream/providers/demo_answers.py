"""The demo analyst's answers beyond one company's headline figures (pure: tool results in, words
and tool calls out): comparisons across companies, breakdowns by segment, what a filing's text
says, and plain answers when a file failed, a company is not loaded or a figure is missing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from finstream.formatting import format_value
from finstream.providers.demo_plan import pct_change

Calls = list[tuple[str, dict[str, Any]]]
UPLOAD_HINT = (
    "its 10-K or 10-Q (the iXBRL .htm from SEC EDGAR is best; a PDF with a text layer or the SEC "
    "companyfacts JSON also work)"
)


def possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


_INERT: dict[str, str | int | None] = {"[": "(", "]": ")", "<": "‹", ">": "›", "*": "",
                                        "`": "'", "#": "", "|": "/"}


def inert(text: object) -> str:
    """Filing text quoted in an answer, made plain for Markdown: no links, emphasis or HTML."""
    plain = re.sub(r"\s+", " ", str(text)).strip()
    return plain.translate(str.maketrans(_INERT))


def _where(hit: dict[str, Any]) -> str:
    bits = [hit.get("section") or ""]
    if hit.get("page"):
        bits.append(f"page {hit['page']}")
    return ", ".join(b for b in bits if b) or "the filing"


# ---------------------------------------------------------------- missing data


def loaded_list(filings: list[Any]) -> str:
    from finstream.tools.compare import group_by_company

    groups = group_by_company(filings)
    if not groups:
        return "no filings"
    return "; ".join(f"{name} ({', '.join(f.filename for f in fs)})" for name, fs in groups)


def missing_answer(unknown: list[str], failed: list[dict[str, str]], filings: list[Any]) -> str:
    """Say plainly which named file failed or which company is not loaded, and what to upload."""
    lines = []
    told: set[str] = set()
    for name in unknown:
        low = name.lower()
        hit = next((d for d in failed if low in d["filename"].lower()
                    or d["filename"].rsplit(".", 1)[0].lower() in low), None)
        if hit is not None and hit["filename"] in told:
            continue
        if hit is not None:
            told.add(hit["filename"])
            lines.append(
                f"**{inert(hit['filename'])}** was uploaded but could not be read: {inert(hit['error'])}. "
                f"I have no figures or text from it, so I cannot answer about it. Upload a readable copy: "
                f"{UPLOAD_HINT}."
            )
        else:
            lines.append(
                f"There is no filing of **{inert(name)}** in this conversation, so I cannot answer for it. "
                f"Upload {UPLOAD_HINT.replace('its ', inert(possessive(name)) + ' ', 1)} and ask again."
            )
    if filings:
        lines.append(
            f"Loaded and readable: {inert(loaded_list(filings))}. I have not answered from those, since "
            "they are other companies' filings."
        )
    else:
        lines.append("No readable filing is loaded in this conversation yet.")
    return "\n\n".join(lines)


def missing_figures(company: str, errors: list[str]) -> str:
    reasons = "; ".join(inert(reason(e)) for e in dict.fromkeys(errors))
    return (
        f"The filings of {company} do not report that figure: {reasons}. Upload a filing that has it, "
        "such as the full 10-K or 10-Q with its financial statements (iXBRL from SEC EDGAR) or the "
        "company's SEC companyfacts JSON."
    )


# ---------------------------------------------------------------- what the text says


def _key_sentence(text: str, limit: int = 220) -> str:
    text = inert(text).rstrip("…")
    m = re.search(r"(.{40,}?[.;:])(\s|$)", text)
    sentence = m.group(1) if m and len(m.group(1)) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
    return sentence


def _without_heading(hit: dict[str, Any]) -> dict[str, Any]:
    """A passage that opens with its section's own heading ("ITEM 1A. RISK FACTORS ...") minus it."""
    text, section = str(hit.get("text", "")), str(hit.get("section") or "")
    title = section.split(". ", 1)[-1] if ". " in section else section
    m = re.match(rf"\s*(item\s+\w+\.?\s*)?{re.escape(title)}\.?\s*", text, re.I) if title else None
    return {**hit, "text": text[m.end():]} if m and m.end() < len(text) else hit


def text_answer(topic: str, company: str, results: list[dict[str, Any]], limit: int = 4) -> str:
    """A short summary from the best passages, each quoted with its section and page."""
    hits = [_without_heading(h) for h in results[:limit]]
    sections = list(dict.fromkeys(_where(h) for h in hits))
    files = ", ".join(dict.fromkeys(str(h.get("filing")) for h in hits))
    head = (f"Here is what {possessive(company)} filing ({inert(files)}) says about {inert(topic)}, "
            f"from {inert('; '.join(sections[:3]))}. In short:")
    summary = "\n".join(f"- {_key_sentence(h.get('text', ''))}" for h in hits)
    quotes = []
    for i, h in enumerate(hits, start=1):
        quote = inert(h.get("text", ""))
        if len(quote) > 420:
            quote = quote[:420].rsplit(" ", 1)[0] + "…"
        quotes.append(f"{i}. > \"{quote}\"\n\n   — {inert(h.get('filing'))}, {inert(_where(h))}")
    return f"{head}\n\n{summary}\n\nThe passages, quoted:\n\n" + "\n\n".join(quotes)


def reason(error: str) -> str:
    """A tool error as a reader should see it: without the 'Error:' prefix and the echoed input."""
    text = re.sub(r"^Error:\s*", "", str(error))
    return re.sub(r"\.?\s*You sent: .*$", "", text, flags=re.S).strip()


def no_text(company: str, error: str, figures_only: bool = False) -> str:
    what = ("The loaded filing is SEC companyfacts data: figures only, no text passages on that"
            if figures_only else f"{possessive(company)} filing has no text passages on that")
    return (f"{what} ({inert(reason(error))}). To ask about risk factors, guidance or other text, upload "
            f"{possessive(company)} 10-K or 10-Q document (the iXBRL .htm from SEC EDGAR, or a PDF with "
            "a text layer).")


# ---------------------------------------------------------------- several companies


def _millions(value: float | None, unit: str) -> float | None:
    if value is None or unit != "USD":
        return value
    return round(value / 1e6, 1)


def _fy_end_months(result: dict[str, Any]) -> str:
    notes = []
    for s in result["series"]:
        ends = [p["end"] for p in s["points"] if p]
        if ends:
            notes.append(f"{s['company']} FY ends {date.fromisoformat(ends[-1]):%b}")
    return "; ".join(notes)


def comparison(results: list[dict[str, Any]]) -> tuple[str, Calls]:
    """Chart, table and tiles for compare_companies results (one per metric), company-named."""
    lead = results[0]
    unit, periods = lead["unit"], lead["periods"]
    names = [s["company"] for s in lead["series"]]
    calls: Calls = []
    paragraphs = []
    aligned = "calendar years" if lead["align"] == "calendar_year" else "fiscal years"
    calls.append(("create_chart", {
        "title": f"{lead['label']}: {' vs '.join(names)} by {aligned[:-1]}",
        "chart_type": "grouped_bar", "x": periods, "unit": unit, "y_label": unit,
        "series": [{"name": s["company"], "values": s["values"],
                    "sources": [p["source"] if p else None for p in s["points"]]} for s in lead["series"]],
    }))
    for result in results:
        for s in result["series"]:
            pts = [p for p in s["points"] if p]
            if not pts:
                continue
            last = pts[-1]
            text = (f"{possessive(s['company'])} {result['label'].lower()} was "
                    f"{format_value(last['value'], result['unit'])} in {last['reported_as']}")
            if len(pts) >= 2:
                change = pct_change(last["value"], pts[-2]["value"])
                if change is not None:
                    text += f", {'up' if change >= 0 else 'down'} {abs(change):.1f}% from {pts[-2]['reported_as']}"
            paragraphs.append(text + ".")
            delta = pct_change(last["value"], pts[-2]["value"]) if len(pts) >= 2 else None
            calls.append(("create_metric", {
                "label": f"{s['company']} · {result['label']} {last['reported_as']}", "value": last["value"],
                "unit": result["unit"], "delta": round(delta, 2) if delta is not None else None,
                "delta_unit": "percent", "period": last["reported_as"], "sources": [last["source"]],
                "company": s["company"],
            }))
        for m in result.get("missing") or []:
            paragraphs.append(f"{m['company']}: no {result['label'].lower()} figures ({inert(m['reason'])}).")
    common = [i for i, _p in enumerate(periods) if all(s["values"][i] is not None for s in lead["series"])]
    if common and len(lead["series"]) >= 2:
        i = common[-1]
        pairs = ", ".join(f"{s['company']} {format_value(s['values'][i], unit)}" for s in lead["series"])
        paragraphs.append(f"Side by side in {periods[i]}: {pairs}.")
    paragraphs.append(f"Periods are aligned by {aligned} ({_fy_end_months(lead)}), so the same label can "
                      "cover different months for each company; every point's source shows its dates.")
    columns = [{"name": "Period", "format": "text"}]
    cols = []
    for result in results:
        for s in result["series"]:
            columns.append({"name": f"{s['company']} {result['label']}",
                            "format": "currency" if result["unit"] == "USD" else "number"})
            cols.append((result, s))
    rows = [[period] + [_millions(s["values"][i], r["unit"]) for r, s in cols] for i, period in enumerate(periods)]
    sources = [p["source"] for _r, s in cols for p in s["points"][-1:] if p]
    calls.append(("create_table", {
        "title": f"{' and '.join(r['label'] for r in results)}: {', '.join(names)}",
        "columns": columns, "rows": rows, "sources": sources,
        "unit_note": ("USD millions; " if unit == "USD" else "") + f"{aligned} ({_fy_end_months(lead)})",
    }))
    return " ".join(paragraphs) + "\n\n", calls


# ---------------------------------------------------------------- segments

_BREAKDOWN_WORDS = {"segment": "segment", "geography": "region", "product": "product"}


def segments(result: dict[str, Any], breakdown: str) -> tuple[str, Calls]:
    company, unit, periods = result["company"], result["unit"], result["periods"]
    word = _BREAKDOWN_WORDS.get(breakdown, "member")
    members = result["members"]
    calls: Calls = [("create_chart", {
        "title": f"{company}: {result['metric']} by {word}",
        "chart_type": "grouped_bar" if len(periods) > 1 else "bar",
        "x": [m["label"] for m in members], "unit": unit, "y_label": unit,
        "series": [{"name": period, "values": [m["values"][i] for m in members],
                    "sources": [m["points"][i]["source"] if m["points"][i] else None for m in members]}
                   for i, period in enumerate(periods)],
    })]
    latest = [(m, m["values"][-1]) for m in members if m["values"][-1] is not None]
    total = sum(v for _m, v in latest)
    columns = [{"name": word.title(), "format": "text"}] + [
        {"name": f"{company} {p}", "format": "currency" if unit == "USD" else "number"} for p in periods
    ] + [{"name": f"Share of {periods[-1]}", "format": "percent"}]
    rows = [[m["label"]] + [_millions(v, unit) for v in m["values"]]
            + [round(m["values"][-1] / total * 100, 1) if total and m["values"][-1] is not None else None]
            for m in members]
    calls.append(("create_table", {
        "title": f"{company}: {result['metric']} by {word}", "columns": columns, "rows": rows,
        "unit_note": "USD millions" if unit == "USD" else None,
        "sources": [p["source"] for m in members for p in m["points"][-1:] if p],
    }))
    parts = []
    for m, v in latest[:3]:
        share = f" ({v / total * 100:.1f}% of the parts)" if total else ""
        text = f"{m['label']} {format_value(v, unit)}{share}"
        if len(m["values"]) >= 2 and m["values"][-2]:
            change = pct_change(v, m["values"][-2])
            if change is not None:
                text += f", {'up' if change >= 0 else 'down'} {abs(change):.1f}%"
        parts.append(text)
    text = (f"{possessive(company)} {result['metric'].lower()} by {word} in {periods[-1]} "
            f"(from the dimensional XBRL facts on {result['axis']}): " + "; ".join(parts) + ".")
    if result.get("left_out_as_subtotals"):
        text += f" Left out as subtotals of the others: {', '.join(result['left_out_as_subtotals'])}."
    return text + "\n\n", calls
