"""SEC companyfacts JSON (data.sec.gov/api/xbrl/companyfacts/CIK##########.json).

Each fact is listed once per filing that reported it, and ``fy``/``fp`` there name the *filing's*
fiscal period, not the fact's: Apple's FY2023 revenue appears under fy=2023 and again under
fy=2024 and 2025. So facts are de-duplicated by (concept, unit, start, end), keeping the latest
filing's value (restated figures win), and periods are labelled from a fiscal calendar learned
from the 10-K facts whose period is the filing's own year.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import date

from finstream.filings.model import Fact, Filing, FilingError, Section, Source
from finstream.filings.periods import FiscalCalendar, calendar_from


def _calendar(entries: list[dict]) -> FiscalCalendar:
    """Most common (fiscal year-end, fy offset) among 10-K annual facts that close their fy."""
    votes: Counter = Counter()
    for e in entries:
        if e.get("fp") != "FY" or not str(e.get("form", "")).startswith("10-K") or not e.get("start"):
            continue
        try:
            start, end = date.fromisoformat(e["start"]), date.fromisoformat(e["end"])
        except (KeyError, ValueError):
            continue
        if not 350 <= (end - start).days <= 380:
            continue
        fy = e.get("fy")
        # The filing's own year is its latest annual period; earlier ones are comparatives.
        votes[(end.month, end.day if end.day <= 28 else 28, fy - end.year if isinstance(fy, int) else 0, end)] += 1
    if not votes:
        return FiscalCalendar()
    latest_per_offset: Counter = Counter()
    for (month, _day, offset, _end), n in votes.items():
        latest_per_offset[(month, offset)] += n
    # Comparatives give offsets of +1/+2; the filing's own year gives the true one, which is the
    # smallest offset seen for a year-end month.
    month = Counter(m for (m, _o) in latest_per_offset.elements()).most_common(1)[0][0]
    offset = min(o for (m, o) in latest_per_offset if m == month)
    day = Counter(d for (m, d, _o, _e) in votes.elements() if m == month).most_common(1)[0][0]
    return calendar_from(None) if month is None else FiscalCalendar(month, day, offset)


def _latest_per_period(taxonomies: dict) -> list[tuple]:
    """One row per (concept, unit, start, end): the value from the latest filing."""
    best: dict[tuple, tuple[dict, str, str]] = {}
    for prefix, taxonomy in taxonomies.items():
        if not isinstance(taxonomy, dict):
            continue
        for name, concept in taxonomy.items():
            if not isinstance(concept, dict):
                continue
            qname = sys.intern(f"{prefix}:{name}")  # one string per concept, shared by its facts
            label = concept.get("label") or name
            for unit, entries in (concept.get("units") or {}).items():
                for e in entries:
                    if not isinstance(e, dict) or not isinstance(e.get("val"), int | float) or "end" not in e:
                        continue
                    key = (qname, unit, e.get("start"), e["end"])
                    old = best.get(key)
                    if old is None or str(e.get("filed", "")) >= str(old[0].get("filed", "")):
                        best[key] = (e, qname, label)
    rows = [
        (qname, label, unit, start_s, end_s, e["val"], e.get("accn"), e.get("form"), e.get("filed"))
        for (_q, unit, start_s, end_s), (e, qname, label) in best.items()
    ]
    return rows


_SOURCE_FIELDS = {"document", "concept", "context", "period"}
_FACT_FIELDS = {"concept", "label", "value", "unit", "period_start", "period_end", "fiscal_year",
                "fiscal_period", "form", "source"}
_REPEATED = ("start", "end", "filed", "form", "fp", "frame")


def _interned(entry: dict) -> dict:
    """json object hook: the strings that repeat across facts (dates, forms) kept once."""
    for key in _REPEATED:
        value = entry.get(key)
        if value.__class__ is str:
            entry[key] = sys.intern(value)
    return entry


def load_companyfacts(filename: str, data: bytes) -> Filing:
    try:
        doc = json.loads(data, object_hook=_interned)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FilingError(filename, f"malformed JSON ({exc})") from None
    if isinstance(doc, dict) and isinstance(doc.get("units"), dict) and doc.get("tag"):
        # companyconcept JSON (one concept of one company): same entries, one level less.
        tag = {"label": doc.get("label"), "units": doc["units"]}
        doc = {**doc, "facts": {doc.get("taxonomy") or "us-gaap": {doc["tag"]: tag}}}
    if not isinstance(doc, dict) or not isinstance(doc.get("facts"), dict):
        raise FilingError(filename, "JSON is not an SEC companyfacts document (no 'facts' object)")
    filing = Filing(filename=filename, format="companyfacts", form="companyfacts")
    filing.company = doc.get("entityName")
    filing.cik = str(doc.get("cik") or "").lstrip("0") or None
    all_entries = [
        e
        for taxonomy in doc["facts"].values()
        if isinstance(taxonomy, dict)
        for concept in taxonomy.values()
        if isinstance(concept, dict)
        for entries in (concept.get("units") or {}).values()
        for e in entries
        if isinstance(e, dict)
    ]
    calendar = _calendar(all_entries)
    rows = _latest_per_period(doc["facts"])
    # The parsed JSON is several times the file's size: let it go before the facts are built.
    del doc, all_entries
    dates: dict[str, date] = {}

    def day(text: str) -> date:
        if text not in dates:
            dates[text] = date.fromisoformat(text)
        return dates[text]

    facts: list[Fact] = []
    latest_filed = ""
    contexts: dict[tuple, str] = {}  # one string per filing, shared by its facts
    labels: dict[tuple, tuple] = {}  # one (fy, fp, period) per period
    while rows:  # popped, so each row's memory goes as its fact is made (order: sorted below)
        qname, label, unit, start_s, end_s, val, accn, form, filed = rows.pop()
        try:
            start = day(start_s) if start_s else None
            end = day(end_s)
        except ValueError:
            continue
        span = labels.get((start, end))
        if span is None:
            span = labels[(start, end)] = calendar.label(start, end)
        fy, fp, period = span
        latest_filed = max(latest_filed, str(filed or ""))
        context = contexts.get((accn, form, filed))
        if context is None:
            context = contexts[(accn, form, filed)] = f"accn {accn}, {form} filed {filed}"
        # Built without re-validation (the values are checked above) and with one shared
        # fields-set: a validated model costs twice the memory, and 300k facts must stay under
        # 10x the file's size.
        # (Every field given: pydantic's default lookup is the slow part of model_construct.)
        source = Source.model_construct(_SOURCE_FIELDS, document=filename, section=None, page=None,
                                        table=None, concept=qname, context=context, period=period)
        facts.append(Fact.model_construct(
            _FACT_FIELDS, concept=qname, label=str(label), value=float(val), unit=unit, scale=0,
            period_start=start, period_end=end, fiscal_year=fy, fiscal_period=fp,
            form=form if form is None else str(form), dimensions={}, source=source,
        ))
    del rows
    facts.sort(key=lambda f: (f.concept, f.period_end, f.period_start or f.period_end))
    filing.facts = facts
    if facts:
        filing.period_end = max(f.period_end for f in facts if f.concept.startswith("us-gaap:")) if any(
            f.concept.startswith("us-gaap:") for f in facts
        ) else max(f.period_end for f in facts)
        fy, fp, period = calendar.label(None, filing.period_end)
        filing.fiscal_period = period
    try:
        filing.filing_date = date.fromisoformat(latest_filed) if latest_filed else None
    except ValueError:
        pass
    concepts = sorted({f.concept for f in facts})
    filing.sections = [
        Section(
            title="Overview",
            text=f"SEC companyfacts for {filing.company} (CIK {filing.cik}): {len(facts)} facts in "
            f"{len(concepts)} concepts, periods up to {filing.period_end}.",
        ),
        Section(title="Concepts", text="\n".join(concepts)),
    ]
    return filing
