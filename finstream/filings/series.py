"""A metric or concept across periods, from one filing or several: what get_financial_data returns."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from functools import lru_cache
from typing import Any, Literal

from finstream.filings.concepts import Metric, common_names, find_metric, label_matches
from finstream.filings.model import Fact, Filing
from finstream.filings.xbrl_common import precision_rank

_XBRL = re.compile(r"^[\w\-]+:[A-Za-z]\w*$")  # prefix:LocalName; line items are anything else
PeriodType = Literal["annual", "quarterly", "all"]


class SeriesNotFound(LookupError):
    """No facts for the asked metric or concept; the message says what exists instead."""


_QUARTERS = {"Q1", "Q2", "Q3", "Q4"}


def _period_ok(fact: Fact, period_type: PeriodType, instant: bool) -> bool:
    """Annual = fiscal years (and balances at a fiscal year end, never at a quarter end);
    quarterly = three-month periods and balances at any quarter end; all = everything,
    year-to-date (H1, 9M) included."""
    if period_type == "all":
        return True
    if fact.period_start is None:
        if not instant:
            return False
        return fact.fiscal_period == "FY" if period_type == "annual" else True
    if fact.fiscal_period:
        return fact.fiscal_period == "FY" if period_type == "annual" else fact.fiscal_period in _QUARTERS
    days = (fact.period_end - fact.period_start).days
    return 350 <= days <= 380 if period_type == "annual" else 80 <= days <= 100


def _unit_ok(metric: Metric, unit: str) -> bool:
    if metric.unit == "USD/shares":  # per-share in any currency (TWD/shares for an IFRS filer)
        return unit.endswith("/shares")
    return unit == metric.unit


def derived_q4(facts: list[Fact]) -> list[Fact]:
    """Fourth quarters that no filing reports, as the fiscal year minus its first nine months.

    Both sources are kept on the derived fact; a Q4 that is reported is never replaced. Only for
    flows (not balances) and not per-share figures, which do not subtract.
    """
    by_concept: dict[tuple[str, str], list[Fact]] = {}
    for f in facts:
        if f.period_start is not None and not f.unit.endswith("/shares"):
            by_concept.setdefault((f.concept, f.unit), []).append(f)
    out: list[Fact] = []
    for (_concept, _unit), group in by_concept.items():
        reported_q4 = {f.period_end for f in group if f.fiscal_period == "Q4"}
        nine = [f for f in group if f.fiscal_period == "9M"]
        for fy in (f for f in group if f.fiscal_period == "FY" and f.period_end not in reported_q4):
            # A 9M label already means nine months from the year's start: the same start is the same year.
            start = fy.period_start  # every fact here has a start (see above)
            ytd = next((g for g in nine if g.period_start is not None and start is not None
                        and abs((g.period_start - start).days) <= 10), None)
            if ytd is None:
                continue
            label = (fy.source.period or f"FY{fy.fiscal_year}").replace("FY", "Q4 FY", 1)
            out.append(fy.model_copy(update={
                "value": fy.value - ytd.value,
                "period_start": ytd.period_end + timedelta(days=1),
                "fiscal_period": "Q4",
                "derived": True,
                "derived_from": [fy.source, ytd.source],
                "decimals": None,
                "history": [],
                "source": fy.source.model_copy(update={
                    "period": label,
                    "context": f"derived: {fy.source.period} minus {ytd.source.period}",
                }),
            }))
            reported_q4.add(fy.period_end)
    return out


def _rank(metric: Metric | None, concept: str, have: str) -> int | None:
    """Lower is better; None when a fact of concept ``have`` is not this metric/concept."""
    if metric is not None:
        if have in metric.concepts:
            return metric.concepts.index(have)
        if _XBRL.match(have):
            return None
        if label_matches(metric, have):
            return len(metric.concepts) + next(
                (i for i, p in enumerate(metric.patterns) if re.fullmatch(p, _norm(have))), 0
            )
        # A line item printed under a group heading ("Costs and expenses: Operating income") is
        # still that line item, ranked after the ones printed on their own.
        own = have.rsplit(": ", 1)[-1]
        if own != have and label_matches(metric, own):
            return len(metric.concepts) + len(metric.patterns) + next(
                (i for i, p in enumerate(metric.patterns) if re.fullmatch(p, _norm(own))), 0
            )
        return None
    want, got = concept.lower(), have.lower()
    if got == want or got.split(":")[-1] == want.split(":")[-1]:
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
    matched: list[tuple[int, int, int, int, Fact]] = []
    order = 0
    # Later filings first among equals: a restated figure replaces the one it restates.
    recency = sorted(range(len(chosen)), key=lambda i: str(chosen[i].period_end or ""), reverse=True)
    newer = {fi: pos for pos, fi in enumerate(recency)}
    for fi, f in enumerate(chosen):
        for fact in f.facts:
            order += 1
            if fact.dimensions:
                continue
            rank = _rank(metric, name, fact.concept)
            if rank is None:
                continue
            if metric is None:
                instant = fact.period_start is None
            # Tagged before printed (rank), then the most precise, then the latest filing.
            matched.append((rank, -precision_rank(fact.decimals), newer[fi], order, fact))
    if not instant and period_type != "annual":
        for fact in derived_q4([c[4] for c in matched]):
            rank = _rank(metric, name, fact.concept)
            matched.append((rank if rank is not None else 0, 10_000, len(chosen), 0, fact))
    candidates = [c for c in matched if _period_ok(c[4], period_type, instant)]
    if not candidates:
        raise SeriesNotFound(_not_found(chosen, name, metric, period_type))
    if metric is not None and metric.unit:
        candidates = [c for c in candidates if _unit_ok(metric, c[4].unit)]
        if not candidates:
            raise SeriesNotFound(_not_found(chosen, name, metric, period_type))
    unit = Counter(c[4].unit for c in candidates).most_common(1)[0][0]
    candidates = _comparable(c for c in candidates if c[4].unit == unit)
    best: dict[tuple, tuple[int, int, int, int, Fact]] = {}
    for cand in candidates:
        fact = cand[4]
        key = (fact.period_start, fact.period_end)
        if key not in best or cand[:4] < best[key][:4]:
            best[key] = cand
    picked = sorted(best.values(), key=lambda c: (c[4].period_end, c[4].period_start or c[4].period_end))
    picked = picked[-limit:] if limit > 0 else picked
    top = Counter(c[4].concept for c in picked).most_common(1)[0][0]
    points = [_point(c[4]) for c in picked]
    label = metric.label if metric else picked[-1][4].label
    return {"concept": top, "label": label, "unit": unit, "points": points}


def available_metrics(filing: Filing) -> list[str]:
    """The common names (``common_names()``) that ``financial_series`` finds figures of in
    ``filing`` with ``period_type="all"``: what list_filings offers.

    A name is found when an undimensioned fact is that metric (its concept or line item) in the
    metric's unit; the (concept, unit) pairs of the undimensioned facts are all the answer depends
    on, so they are the cache key. A filing read again from the store (a new object each turn) or
    uploaded again with the same facts is answered from the cache; one whose facts changed has
    other pairs and is worked out anew.
    """
    return list(_metrics_of(frozenset((f.concept, f.unit) for f in filing.facts if not f.dimensions)))


@lru_cache(maxsize=64)
def _metrics_of(pairs: frozenset[tuple[str, str]]) -> tuple[str, ...]:
    found = []
    for name in common_names():
        metric = find_metric(name)
        if any(
            _rank(metric, name, concept) is not None
            and (metric is None or not metric.unit or _unit_ok(metric, unit))
            for concept, unit in pairs
        ):
            found.append(name)
    return tuple(found)


def _point(fact: Fact) -> dict[str, Any]:
    point: dict[str, Any] = {
        "period": fact.source.period or fact.period_end.isoformat(),
        "start": fact.period_start.isoformat() if fact.period_start else None,
        "end": fact.period_end.isoformat(),
        "value": fact.value,
        "source": fact.source.model_dump(exclude_none=True),
    }
    if fact.derived:
        point["derived"] = True
        point["derived_from"] = [s.model_dump(exclude_none=True) for s in fact.derived_from]
    if fact.history:
        point["restated_from"] = [h.model_dump(exclude_none=True) for h in fact.history[-2:]]
    return point


def _comparable(candidates) -> list[tuple[int, int, int, int, Fact]]:
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
        shared = [(k, c[4].value) for c in group if (k := (c[4].period_start, c[4].period_end)) in values]
        if kept and any(abs(values[k] - v) > 0.005 * max(abs(v), 1) for k, v in shared):
            continue
        kept.extend(group)
        for c in group:
            values.setdefault((c[4].period_start, c[4].period_end), c[4].value)
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
