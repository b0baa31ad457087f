"""Numbers an answer computes from facts: growth, compound growth, margins, ratios, sums,
differences and changes, recomputed from this answer's facts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from finstream.verify.facts import Known

PERCENT_FORMULAS = ("growth", "cagr", "margin")
MONEY_FORMULAS = ("change", "sum", "difference")


@dataclass(frozen=True)
class Derivation:
    formula: str
    value: float
    facts: tuple[Known, ...]  # in formula order: (old, new) or (part, whole) or (a, b)
    steps: int = 1  # periods compounded, for cagr

    @property
    def anchor(self) -> Known:
        """The fact whose period the derived number is for (the newer one, or the shared one)."""
        return self.facts[-1] if self.formula in ("growth", "cagr", "change") else self.facts[0]

    def describe(self, fmt) -> str:
        a, b = self.facts[0], self.facts[-1]
        name = lambda k: f"{k.label or k.concept} {k.period_label or ''}".strip()  # noqa: E731
        if self.formula == "growth":
            return f"growth from {name(a)} ({fmt(a)}) to {name(b)} ({fmt(b)})"
        if self.formula == "cagr":
            return f"compound growth over {self.steps} periods from {name(a)} ({fmt(a)}) to {name(b)} ({fmt(b)})"
        if self.formula == "margin":
            return f"{name(a)} ({fmt(a)}) as a share of {b.label or b.concept} ({fmt(b)})"
        if self.formula == "ratio":
            return f"{name(a)} ({fmt(a)}) divided by {b.label or b.concept} ({fmt(b)})"
        if self.formula == "change":
            return f"change from {name(a)} ({fmt(a)}) to {name(b)} ({fmt(b)})"
        op = "plus" if self.formula == "sum" else "minus"
        return f"{name(a)} ({fmt(a)}) {op} {b.label or b.concept} ({fmt(b)})"


def _kind(k: Known) -> str:
    months = k.months
    if months is None:
        return "instant"
    if months > 10.5:
        return "year"
    if 2 <= months <= 4:
        return "quarter"
    return f"m{round(months)}"


def _end(k: Known) -> date:
    """The end of a fact that has one (the measures and periods keep only those)."""
    assert k.end is not None
    return k.end


def _measures(pool: Iterable[Known]) -> list[list[Known]]:
    groups: dict[tuple, list[Known]] = {}
    for k in pool:
        if k.end is None or k.origin == "passage":
            continue
        key = (k.concept.split(":")[-1].lower(), k.unit, tuple(sorted(k.dimensions.items())), _kind(k), k.section)
        groups.setdefault(key, []).append(k)
    for g in groups.values():
        g.sort(key=_end)
    return list(groups.values())


def _periods(pool: Iterable[Known]) -> list[list[Known]]:
    groups: dict[tuple, list[Known]] = {}
    for k in pool:
        if k.end is None or k.origin == "passage":
            continue
        groups.setdefault((k.start, k.end, k.section), []).append(k)
    return list(groups.values())


def _steps(a: Known, b: Known) -> int:
    days = (_end(b) - _end(a)).days
    return round(days / 91.31) if _kind(b) == "quarter" else round(days / 365.25)


def derivations(pool: list[Known], kind: str) -> list[Derivation]:
    """Every number the pool's facts give by the formulas that fit a number of this kind."""
    out: list[Derivation] = []
    if kind == "percent":
        for line in _measures(pool):
            for i, a in enumerate(line):
                for b in line[i + 1 :]:
                    if a.value == 0 or b.end == a.end:
                        continue
                    out.append(Derivation("growth", (b.value - a.value) / abs(a.value) * 100, (a, b)))
                    n = _steps(a, b)
                    if n >= 2 and a.value > 0 and b.value > 0:
                        out.append(Derivation("cagr", ((b.value / a.value) ** (1 / n) - 1) * 100, (a, b), n))
        for group in _periods(pool):
            for part in group:
                for whole in group:
                    if part is whole or whole.value == 0 or part.unit != whole.unit or part.concept == whole.concept:
                        continue
                    out.append(Derivation("margin", part.value / whole.value * 100, (part, whole)))
    elif kind in ("money", "number", "count"):
        for line in _measures(pool):
            for i, a in enumerate(line):
                for b in line[i + 1 :]:
                    out.append(Derivation("change", b.value - a.value, (a, b)))
        for group in _periods(pool):
            for x, a in enumerate(group):
                for b in group[x + 1 :]:
                    if a.unit != b.unit or a.concept == b.concept:
                        continue
                    out.append(Derivation("sum", a.value + b.value, (a, b)))
                    hi, lo = (a, b) if abs(a.value) >= abs(b.value) else (b, a)
                    out.append(Derivation("difference", hi.value - lo.value, (hi, lo)))
        if kind == "number":
            for group in _periods(pool):
                for a in group:
                    for b in group:
                        if a is not b and b.value and a.unit == b.unit and a.concept != b.concept:
                            out.append(Derivation("ratio", a.value / b.value, (a, b)))
    return [d for d in out if math.isfinite(d.value)]
