"""Checking one number against the facts: verified, derived or unverified, with the reason.

A number verifies when a fact equals it within the rounding its digits state, at the scale stated
(391,035 million = $391.0B = 391035000000), in the period the answer gives it for. It is derived
when a growth rate, compound rate, margin, sum, difference or change of this answer's facts gives
it. Otherwise it is unverified, and the reason says what the facts say instead: the right value for
that line and period, or the period the number really belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from finstream.filings.concepts import find_metric, label_matches
from finstream.formatting import format_value
from finstream.verify.derive import Derivation, derivations
from finstream.verify.facts import FactIndex, Known
from finstream.verify.model import NumberCheck
from finstream.verify.periods import Period, matches

_CURRENCIES = {"USD", "EUR", "GBP", "JPY", "CAD", "CHF", "CNY", "AUD"}
_SLACK = 1.02  # computing from rounded inputs may move the last digit a little


@dataclass
class Claim:
    """A number shown to the user, with what the answer says it is."""

    value: float  # in units ("$391.0B" -> 391e9); percentages as shown (46.2)
    tolerance: float  # half a unit of the last digit shown, in the same units as value
    kind: str = "money"  # money, per_share, percent, count, number
    text: str | None = None
    period: Period | None = None  # the period the answer names for this number
    period_firm: bool = True  # False when the period was only named earlier in the sentence
    periods: tuple[Period, ...] = ()  # other periods in play (a range, the sentence's periods)
    concepts: tuple[str, ...] = ()  # what the number is of: concepts, common names or labels
    concept_firm: bool = False  # True when the artifact cites the concept (its sources)
    fact_ids: tuple[str, ...] = ()
    scales: tuple[float, ...] = (1.0,)  # scales to try when none was stated
    direction: int = 0  # +1 up / -1 down, from the words around a percentage
    loss: bool = False
    signed: bool = False  # the sign was typed (an artifact's delta): do not try the other one
    span: tuple[int, int] | None = None
    where: str | None = None


def fmt(k: Known) -> str:
    unit = k.unit if k.unit not in ("table", "text") else ""
    if unit == "pure":
        return f"{k.value:g}"
    return format_value(k.value, unit or None)


def _unit_fits(kind: str, unit: str) -> bool:
    if unit in ("table", "text"):
        return kind != "percent"
    if kind == "money":
        return unit in _CURRENCIES or unit.startswith("USD")
    if kind == "per_share":
        return "/" in unit or unit in _CURRENCIES
    if kind == "percent":
        return unit in ("%", "pure")
    if kind == "count":
        return unit not in _CURRENCIES and not unit.startswith("USD") and unit != "%"
    return unit != "%"


def _concept_fits(k: Known, hints: tuple[str, ...]) -> bool:
    if k.origin == "passage":
        return True  # a figure in filing text names no concept: its words were checked by the quote
    have = k.concept.split(":")[-1].lower()
    for hint in hints:
        h = hint.strip().lower()
        if not h:
            continue
        if h.split(":")[-1] == have or (k.label or "").lower() == h:
            return True
        metric = find_metric(hint)
        if metric is not None and (
            have in {c.split(":")[-1].lower() for c in metric.concepts} or label_matches(metric, k.concept)
        ):
            return True
    return False


def _in_period(claim: Claim, k: Known) -> bool:
    if k.origin in ("passage", "table") and k.period is None:
        return True
    candidates = [claim.period] if claim.period_firm else [claim.period, *claim.periods]
    periods = [p for p in candidates if p is not None]
    return not periods or any(matches(p, k.period, k.end) for p in periods)


def _hits(claim: Claim, index: FactIndex) -> list[tuple[Known, float]]:
    """Facts equal to the claim (with the scale that makes them equal)."""
    out: list[tuple[Known, float]] = []
    seen: set[str] = set()
    for scale in claim.scales:
        target, tol = claim.value * scale, claim.tolerance * scale * _SLACK + 1e-9
        wanted = [target]
        if claim.loss or claim.direction:
            wanted.append(-target)
        cands = [k for w in wanted for k in index.near(w, tol)]
        if claim.kind == "percent":
            # A rate stored as a fraction (0.241 = 24.1%); from the whole filing only for a named period,
            # since small fractions are many and a growth rate would match one of them by chance.
            cands += [k for w in wanted for k in index.near(w / 100, tol / 100) if k.unit == "pure"
                      and (k.origin != "filing" or (claim.period is not None and claim.period_firm))]
        cands += [k for k in index.pool if k.origin == "passage" and abs(abs(k.value) - abs(target)) <= tol]
        for k in cands:
            if k.id not in seen and _unit_fits(claim.kind, k.unit):
                seen.add(k.id)
                out.append((k, scale))
    return out


def _local_names(hints: tuple[str, ...]) -> list[str]:
    names: list[str] = []
    for hint in hints:
        metric = find_metric(hint)
        concepts = metric.concepts if metric is not None else (hint,)
        names += [c.split(":")[-1].lower() for c in concepts]
    return names


def _admissible(claim: Claim, k: Known) -> bool:
    """Whether an equal fact is evidence for this number.

    A filing holds thousands of facts, so some fact equals almost any number by chance: one the
    answer did not look up counts only if it is of the line item the answer names or, when the
    answer names none, of the period it names.
    """
    if k.origin != "filing":
        return True
    if claim.concepts:
        return _concept_fits(k, claim.concepts)
    return claim.period is not None


def _expected(claim: Claim, index: FactIndex) -> list[Known]:
    """The facts for the claim's line item and period: what the number should have been.

    This answer's data first; else the filings' facts of that concept (the first concept of a
    common metric that has one for the period).
    """
    if not claim.concepts or claim.period is None:
        return []
    found = [k for k in index.pool if k.origin == "series" and _concept_fits(k, claim.concepts)
             and _in_period(claim, k) and _unit_fits(claim.kind, k.unit)]
    if found:
        return found
    for name in _local_names(claim.concepts):
        filed = [k for k in index.filing_facts.by_concept.get(name, [])
                 if _in_period(claim, k) and _unit_fits(claim.kind, k.unit)
                 and (k.months is None or k.months > 10.5 or claim.period.kind != "FY")]
        if filed:
            return filed[:1]
    return []


def _result(claim: Claim, status: str, reason: str, facts: list[Known], formula: str | None = None) -> NumberCheck:
    period = claim.period.label() if claim.period else None
    if not claim.period_firm and status != "unverified" and facts and facts[-1].period_label:
        period = facts[-1].period_label  # the sentence named several periods; this is the one it is for
    return NumberCheck(
        value=claim.value, text=claim.text, kind=claim.kind, period=period, status=status, reason=reason,
        formula=formula, facts=[k.ref() for k in facts], span=list(claim.span) if claim.span else None,
        where=claim.where,
    )


def _scale_note(scale: float) -> str:
    return {1e3: " (read as thousands)", 1e6: " (read as millions)", 1e9: " (read as billions)"}.get(scale, "")


def _by_ids(claim: Claim, index: FactIndex) -> NumberCheck:
    facts = [index.get(i) for i in claim.fact_ids]
    missing = [i for i, k in zip(claim.fact_ids, facts, strict=True) if k is None]
    if missing:
        return _result(claim, "unverified", f"unknown fact id {missing[0]}", [])
    known = [k for k in facts if k is not None]
    if len(known) == 1:
        k = known[0]
        if not any(abs(k.value - claim.value * s) <= claim.tolerance * s * _SLACK + 1e-9 for s in claim.scales):
            return _result(claim, "unverified", f"{fmt(k)} is the fact, not {claim.text or claim.value}", [k])
        if not _in_period(claim, k):
            named = [claim.period] if claim.period is not None else list(claim.periods)
            return _result(claim, "unverified", f"wrong period: the fact is {k.period_label}, not "
                           f"{', '.join(p.label() for p in named)}", [k])
        return _result(claim, "verified", f"filled from fact {k.id}: {k.label or k.concept} {k.period_label}", [k])
    derived = _derive(claim, known)
    if derived is not None:
        return derived
    return _result(claim, "unverified", "the facts given do not recompute to this number", known)


def _derive(claim: Claim, pool: list[Known]) -> NumberCheck | None:
    kind = "percent" if claim.kind == "percent" else claim.kind
    targets = [claim.value]
    if claim.kind == "percent" and claim.direction and claim.value > 0:
        targets = [claim.value * claim.direction]
    elif claim.kind == "percent" and not claim.direction and not claim.signed:
        targets = [claim.value, -claim.value] if claim.value > 0 else [claim.value]
    found: list[Derivation] = []
    for scale in claim.scales if kind != "percent" else (1.0,):
        tol = claim.tolerance * scale * _SLACK + 1e-9
        for d in derivations(pool, kind):
            if any(abs(d.value - t * scale) <= tol for t in targets):
                found.append(d)
    if not found:
        return None

    def score(d: Derivation) -> tuple:
        in_period = claim.period is None or matches(claim.period, d.anchor.period, d.anchor.end)
        named = sum(1 for k in d.facts for p in claim.periods if matches(p, k.period, k.end))
        concept = bool(claim.concepts) and _concept_fits(d.facts[0], claim.concepts)
        return (in_period, concept, named, -d.steps)

    best = max(found, key=score)
    if claim.period is not None and claim.period_firm and not score(best)[0]:
        return _result(claim, "unverified", f"wrong period: recomputes as {best.describe(fmt)}, which is "
                       f"{best.anchor.period_label}, not {claim.period.label()}", list(best.facts), best.formula)
    return _result(claim, "derived", f"{best.formula}: {best.describe(fmt)}", list(best.facts), best.formula)


def _percent_hint(claim: Claim, pool: list[Known]) -> NumberCheck | None:
    """For a percentage that recomputes from nothing: the wrong sign, or what its line recomputes as."""
    flipped = _derive(replace(claim, value=-claim.value * (claim.direction or 1), direction=0, signed=True), pool)
    if flipped is not None and flipped.status == "derived":
        return _result(claim, "unverified", f"wrong direction: {flipped.reason.split(': ', 1)[-1]} gives "
                       f"{_percent_of(flipped, pool)}", [_by_id(pool, f.id) for f in flipped.facts])
    if not claim.concepts:
        return None
    near = [d for d in derivations(pool, "percent") if _concept_fits(d.facts[0], claim.concepts)
            and (claim.period is None or matches(claim.period, d.anchor.period, d.anchor.end))
            and d.formula in ("margin", "growth")]
    if not near:
        return None
    best = min(near, key=lambda d: abs(d.value - claim.value * (claim.direction or 1)))
    return _result(claim, "unverified", f"no fact or formula gives {claim.text or claim.value}: "
                   f"{best.describe(fmt)} is {best.value:.1f}%", list(best.facts), best.formula)


def _by_id(pool: list[Known], fid: str) -> Known:
    return next(k for k in pool if k.id == fid)


def _percent_of(check: NumberCheck, pool: list[Known]) -> str:
    facts = [_by_id(pool, f.id) for f in check.facts]
    for d in derivations(facts, "percent"):
        if d.formula == check.formula and [k.id for k in d.facts] == [f.id for f in check.facts]:
            return f"{d.value:+.1f}%"
    return "the other sign"


def check_claim(claim: Claim, index: FactIndex) -> NumberCheck:
    """The status of one number, with the reason and the facts behind it."""
    if claim.fact_ids:
        return _by_ids(claim, index)
    hits = [(k, s) for k, s in _hits(claim, index) if _admissible(claim, k)]
    expected = _expected(claim, index)
    in_period = [(k, s) for k, s in hits if _in_period(claim, k)]
    if claim.concepts:
        fitting = [(k, s) for k, s in in_period if _concept_fits(k, claim.concepts)]
        if fitting:
            k, s = fitting[0]
            return _result(claim, "verified", f"equals {k.label or k.concept} {k.period_label or ''} "
                           f"({fmt(k)}){_scale_note(s)}".replace("  ", " "), [k])
        if in_period and (claim.concept_firm or expected):
            k = in_period[0][0]
            want = f"; {_name(expected[0])} is {fmt(expected[0])}" if expected else ""
            return _result(claim, "unverified", f"wrong figure: {claim.text or claim.value} is "
                           f"{_name(k)}{want}", [k, *expected[:1]])
    if in_period and not (claim.concepts and claim.concept_firm):
        k, s = in_period[0]
        passage = f" (quoted in {k.section or k.document})" if k.origin == "passage" else ""
        return _result(claim, "verified", f"equals {_name(k)} ({fmt(k)}){passage}{_scale_note(s)}", [k])
    derived = _derive(claim, index.pool)
    if derived is not None and (derived.status == "derived" or not hits):
        return derived
    if hits:
        prefer = [(k, s) for k, s in hits if not claim.concepts or _concept_fits(k, claim.concepts)] or hits
        k = prefer[0][0]
        if claim.period is not None and not claim.period_firm and any(
            matches(p, k.period, k.end) for p in claim.periods
        ):
            return _result(claim, "verified", f"equals {_name(k)} ({fmt(k)})", [k])
        return _result(claim, "unverified", f"wrong period: {claim.text or claim.value} is {_name(k)}, not "
                       f"{claim.period.label() if claim.period else '?'}", [k, *expected[:1]])
    if expected:
        k = expected[0]
        return _result(claim, "unverified", f"no fact equals {claim.text or claim.value}: {_name(k)} is {fmt(k)}",
                       [k])
    if claim.kind == "percent":
        hint = _percent_hint(claim, index.pool)
        if hint is not None:
            return hint
    return _result(claim, "unverified", f"no fact in the filings or this answer's data equals "
                   f"{claim.text or claim.value}", [])


def _name(k: Known) -> str:
    return f"{k.label or k.concept} {k.period_label or ''}".strip()
