"""SEC companyfacts JSON (data.sec.gov/api/xbrl/companyfacts/CIK##########.json).

Each fact is listed once per filing that reported it, and ``fy``/``fp`` there name the *filing's*
fiscal period, not the fact's: Apple's FY2023 revenue appears under fy=2023 and again under
fy=2024 and 2025. So facts are de-duplicated by (concept, unit, start, end), keeping the latest
filing's value (restated figures win; earlier different values stay in ``Fact.history``), and
each is labelled from its own start/end dates with the company's fiscal calendar, learned from
the periods its annual reports close.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import date, timedelta

from finstream.filings.model import Fact, Filing, FilingError, Revision, Section, Source
from finstream.filings.periods import FiscalCalendar, calendar_info

_ANNUAL_FORMS = ("10-K", "10-KT", "20-F", "40-F")
_QUARTER = {"Q1": 1, "Q2": 2, "Q3": 3}


def _calendar(entries: list[dict]) -> FiscalCalendar:
    """The company's fiscal calendar, from the periods its own annual reports close.

    SEC's ``fy``/``fp`` name the *filing's* fiscal year: an annual report's comparatives carry its
    fy too. So each annual report (one accession) gives one pair: the end of its latest
    twelve-month period and its fy. Their month/day is the year end; fy minus the end's year is
    how the company names its years (Home Depot: -1). Without annual reports, quarterly reports
    give the year end from their latest period and quarter number.
    """
    own: dict[str, tuple[date, int]] = {}
    quarterly: dict[str, tuple[date, int, int]] = {}
    for e in entries:
        fy, fp, form = e.get("fy"), e.get("fp"), str(e.get("form") or "")
        if not isinstance(fy, int) or not e.get("start") or not e.get("accn"):
            continue
        try:
            start, end = date.fromisoformat(e["start"]), date.fromisoformat(e["end"])
        except (KeyError, ValueError):
            continue
        days = (end - start).days
        if fp == "FY" and form.split("/")[0] in _ANNUAL_FORMS and 350 <= days <= 380:
            if e["accn"] not in own or end > own[e["accn"]][0]:
                own[e["accn"]] = (end, fy)
        elif fp in _QUARTER and 80 <= days <= 100:
            if e["accn"] not in quarterly or end > quarterly[e["accn"]][0]:
                quarterly[e["accn"]] = (end, fy, _QUARTER[fp])
    if own:
        ends = [end for end, _fy in own.values()]
        month, day = _nominal(ends)
        base = FiscalCalendar(month, day)
        offsets = Counter(fy - base.year_end_on_or_after(end).year for end, fy in own.values())
        weeks = any((d + timedelta(days=1)).day != 1 for d in ends) and len({(d.month, d.day) for d in ends}) > 1
    elif quarterly:
        end, _fy, q = max(quarterly.values())
        nominal = end + timedelta(days=round((4 - q) * 91.31))
        month, day = nominal.month, nominal.day
        if (end + timedelta(days=1)).day == 1:  # month-end quarters: a month-end year end
            month, day = _month_end(nominal)
        base = FiscalCalendar(month, day)
        offsets = Counter(fy - base.year_end_on_or_after(e).year for e, fy, _q in quarterly.values())
        weeks = any((e + timedelta(days=1)).day != 1 for e, _f, _q in quarterly.values())
    else:
        return FiscalCalendar()
    offset = offsets.most_common(1)[0][0]
    return FiscalCalendar(month, day, offset if abs(offset) <= 1 else 0, weeks_52_53=weeks)


def _nominal(ends: list[date]) -> tuple[int, int]:
    """The year end's nominal (month, day): the middle of the days the years actually ended on
    (Apple's 52/53-week years end between September 24 and 30: nominal September 27)."""
    month = Counter(d.month for d in ends).most_common(1)[0][0]
    offsets = []
    for d in ends:
        delta = (d - date(d.year, month, 1)).days
        offsets.append(delta - 365 if delta > 180 else delta + 365 if delta < -180 else delta)
    offsets.sort()
    middle = date(2001, month, 1) + timedelta(days=offsets[len(offsets) // 2])
    return middle.month, middle.day


def _month_end(d: date) -> tuple[int, int]:
    """(month, last day) of the month nearest to d."""
    if d.day < 15:
        d = d.replace(day=1) - timedelta(days=1)
    else:
        d = (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return d.month, d.day


def _latest_per_period(taxonomies: dict) -> list[tuple]:
    """One row per (concept, unit, start, end): the value from the latest filing (a restatement
    wins), with the earlier, different values kept as its history."""
    best: dict[tuple, tuple[dict, str, str]] = {}
    history: dict[tuple, list[dict]] = {}
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
                    if old is None:
                        best[key] = (e, qname, label)
                    elif str(e.get("filed", "")) >= str(old[0].get("filed", "")):
                        if e["val"] != old[0]["val"]:
                            history.setdefault(key, []).append(old[0])
                        best[key] = (e, qname, label)
                    elif e["val"] != old[0]["val"]:
                        history.setdefault(key, []).append(e)
    rows = []
    for key, (e, qname, label) in best.items():
        _q, unit, start_s, end_s = key
        earlier = [
            Revision(value=float(h["val"]), filed=h.get("filed"), context=f"accn {h.get('accn')}, {h.get('form')}")
            for h in sorted(history[key], key=lambda h: str(h.get("filed", "")))
            if h["val"] != e["val"]
        ] if key in history else []
        rows.append((qname, label, unit, start_s, end_s, e["val"], e.get("accn"), e.get("form"), e.get("filed"), earlier))
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
    filing.calendar = calendar_info(calendar, "the periods of the company's own annual and quarterly reports")
    rows = _latest_per_period(doc["facts"])
    # The parsed JSON is several times the file's size: let it go before the facts are built.
    del doc, all_entries
    dates: dict[str, date] = {}

    def day(text: str) -> date:
        if text not in dates:
            dates[text] = date.fromisoformat(text)
        return dates[text]

    facts: list[Fact] = []
    labels: dict[tuple, tuple] = {}
    latest_filed = ""
    contexts: dict[tuple, str] = {}  # one string per filing, shared by its facts
    while rows:  # popped, so each row's memory goes as its fact is made (order: sorted below)
        qname, label, unit, start_s, end_s, val, accn, form, filed, earlier = rows.pop()
        try:
            start = day(start_s) if start_s else None
            end = day(end_s)
        except ValueError:
            continue
        span = labels.get((start, end))
        if span is None:  # thousands of facts share a few hundred periods
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
            decimals=None, derived=False, derived_from=[], history=earlier,
        ))
    del rows
    facts.sort(key=lambda f: (f.concept, f.period_end, f.period_start or f.period_end))
    filing.facts = facts
    if facts:
        reported = [f.period_end for f in facts if not f.concept.startswith("dei:") and f.period_start is not None
                    and str(f.form or "").split("/")[0] in (*_ANNUAL_FORMS, "10-Q")]
        filing.period_end = max(reported) if reported else max(f.period_end for f in facts)
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
