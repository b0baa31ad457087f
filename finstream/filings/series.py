"""A metric or concept across periods, from one filing or several: what get_financial_data returns."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal

from finstream.filings.concepts import Metric, find_metric, label_matches
from finstream.filings.model import Fact, Filing

_XBRL = re.compile(r"^[\w\-]+:[A-Za-z]\w*$")  # prefix:LocalName; line items are anything else
PeriodType = Literal["annual", "quarterly", "all"]


class SeriesNotFound(LookupError):
    """No facts for the asked metric or concept; the message says what exists instead."""


def _period_ok(fact: Fact, period_type: PeriodType, instant: bool) -> bool:
    if period_type == "all":
        return True
    if fact.period_start is None:
        if not instant:
            return False
        return fact.fiscal_period == "FY" if period_type == "annual" else True
    days = (fact.period_end - fact.period_start).days
    return 350 <= days <= 380 if period_type == "annual" else 80 <= days <= 100


def _rank(metric: Metric | None, concept: str, fact: Fact) -> int | None:
    """Lower is better; None when the fact is not this metric/concept."""
    if metric is not None:
        if fact.concept in metric.concepts:
            return metric.concepts.index(fact.concept)
        if not _XBRL.match(fact.concept) and label_matches(metric, fact.concept):
            return len(metric.concepts) + next(
                (i for i, p in enumerate(metric.patterns) if re.fullmatch(p, _norm(fact.concept))), 0
            )
        return None
    want = concept.lower()
    have = fact.concept.lower()
    if have == want or have.split(":")[-1] == want.split(":")[-1]:
        return 0
    return None


def _norm(label: str) -> str:
    return re.sub(r"\s+", " ", label.lower().replace("’", "'")).strip(" :")


def financial_series(
    filings: list[Filing],
    name: str,
    *,
    filing: str | None = None,
    period_type: PeriodType = "annual",
    limit: int = 12,
) -> dict[str, Any]:
    """{"concept", "label", "unit", "points": [...]} sorted by period end, one point per period."""
    chosen = [f for f in filings if filing is None or f.filename == filing or f.document_id == filing]
    if not chosen:
        names = ", ".join(f.filename for f in filings) or "none"
        raise SeriesNotFound(f"no filing named {filing!r}; available: {names}")
    metric = find_metric(name)
    instant = metric.instant if metric else False
    candidates: list[tuple[int, int, int, Fact]] = []
    order = 0
    for fi, f in enumerate(chosen):
        for fact in f.facts:
            order += 1
            if fact.dimensions:
                continue
            rank = _rank(metric, name, fact)
            if rank is None:
                continue
            if metric is None:
                instant = fact.period_start is None
            if _period_ok(fact, period_type, instant):
                candidates.append((rank, fi, order, fact))
    if not candidates:
        raise SeriesNotFound(_not_found(chosen, name, metric, period_type))
    if metric is not None and metric.unit:
        candidates = [c for c in candidates if c[3].unit == metric.unit]
        if not candidates:
            raise SeriesNotFound(_not_found(chosen, name, metric, period_type))
    unit = Counter(c[3].unit for c in candidates).most_common(1)[0][0]
    candidates = _comparable(c for c in candidates if c[3].unit == unit)
    best: dict[tuple, tuple[int, int, int, Fact]] = {}
    for cand in candidates:
        fact = cand[3]
        key = (fact.period_start, fact.period_end)
        if key not in best or cand[:3] < best[key][:3]:
            best[key] = cand
    picked = sorted(best.values(), key=lambda c: (c[3].period_end, c[3].period_start or c[3].period_end))
    picked = picked[-limit:] if limit > 0 else picked
    top = Counter(c[3].concept for c in picked).most_common(1)[0][0]
    points = [
        {
            "period": c[3].source.period or c[3].period_end.isoformat(),
            "start": c[3].period_start.isoformat() if c[3].period_start else None,
            "end": c[3].period_end.isoformat(),
            "value": c[3].value,
            "source": c[3].source.model_dump(exclude_none=True),
        }
        for c in picked
    ]
    label = metric.label if metric else picked[-1][3].label
    return {"concept": top, "label": label, "unit": unit, "points": points}


def _comparable(candidates) -> list[tuple[int, int, int, Fact]]:
    """Keep the best-ranked concept, plus lower-ranked ones that measure the same thing.

    Companies switch concepts over the years (revenue), so older periods may come from another
    concept; but a concept that disagrees with a better one on a shared period is a different
    measure (cash vs cash including restricted cash) and is left out rather than mixed in.
    """
    by_rank: dict[int, list] = {}
    for c in candidates:
        by_rank.setdefault(c[0], []).append(c)
    kept: list = []
    values: dict[tuple, float] = {}
    for rank in sorted(by_rank):
        group = by_rank[rank]
        shared = [(k, c[3].value) for c in group if (k := (c[3].period_start, c[3].period_end)) in values]
        if kept and any(abs(values[k] - v) > 0.005 * max(abs(v), 1) for k, v in shared):
            continue
        kept.extend(group)
        for c in group:
            values.setdefault((c[3].period_start, c[3].period_end), c[3].value)
    return kept


def _not_found(filings: list[Filing], name: str, metric: Metric | None, period_type: str) -> str:
    where = ", ".join(f.filename for f in filings)
    if metric is None:
        return (
            f"{name!r} is neither a common metric nor a concept in {where}; try one of: revenue, "
            "gross profit, operating income, net income, eps, total assets, cash, or an XBRL concept "
            "such as us-gaap:NetIncomeLoss"
        )
    hint = " (try period_type 'all' or 'quarterly')" if period_type == "annual" else " (try period_type 'all')"
    return f"no {period_type} {metric.label.lower()} figures in {where}{hint}"
