"""Comparing finstream's numeric facts with Arelle's: one key per (concept, period, dimensions, unit)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from finstream.filings.model import Filing

# Primary statements, by the titles filers give them (the presentation linkbase is not in the file).
STATEMENT = re.compile(
    r"statements? of (consolidated )?(operations|income|earnings|comprehensive|cash flows|financial position|"
    r"financial condition)|balance sheets?|income statements?|statements? of (share|stock)holders",
    re.I,
)


def _precision(d) -> int:
    if d in (None, ""):
        return -10_000
    return 10_000 if str(d).upper() == "INF" else int(d)


def arelle_keyed(facts: list[dict]) -> tuple[dict[tuple, dict], list[dict]]:
    """Arelle's facts, one per key (most precise copy, as finstream keeps), and those Arelle could not value."""
    keyed: dict[tuple, dict] = {}
    unvalued = []
    for f in facts:
        if f["value"] is None:
            unvalued.append(f)
            continue
        key = (f["concept"], f["start"], f["end"], tuple(sorted(f["dims"].items())), f["unit"])
        old = keyed.get(key)
        if old is None or _precision(f["decimals"]) > _precision(old["decimals"]):
            keyed[key] = f
    return keyed, unvalued


def finstream_keyed(filing: Filing) -> dict[tuple, object]:
    out = {}
    for f in filing.facts:
        key = (
            f.concept, f.period_start.isoformat() if f.period_start else None, f.period_end.isoformat(),
            tuple(sorted(f.dimensions.items())), f.unit,
        )
        out[key] = f
    return out


@dataclass
class Agreement:
    name: str
    arelle: int = 0
    agree: int = 0
    primary: int = 0
    primary_agree: int = 0
    missing: list[tuple] = field(default_factory=list)  # Arelle has it, finstream does not
    extra: list[tuple] = field(default_factory=list)  # finstream has it, Arelle does not
    wrong: list[tuple] = field(default_factory=list)  # both, different values
    unvalued: list[dict] = field(default_factory=list)  # Arelle could not read the value

    @property
    def ratio(self) -> float:
        total = self.arelle + len(self.extra)
        return self.agree / total if total else 1.0


def primary_keys(filing: Filing) -> set[tuple]:
    """Keys of the non-dimensional facts finstream located in a primary statement's table."""
    return {k for k, f in finstream_keyed(filing).items() if not f.dimensions and STATEMENT.search(f.source.table or "")}


def compare(name: str, filing: Filing, arelle: dict, primary: set[tuple] | None = None) -> Agreement:
    """``primary``: the primary-statement keys when the file has no tables of its own (an XBRL
    instance takes those of the inline-XBRL document it was extracted from)."""
    theirs, unvalued = arelle_keyed(arelle["facts"])
    ours = finstream_keyed(filing)
    primary = primary_keys(filing) if primary is None else primary
    result = Agreement(name, arelle=len(theirs), unvalued=unvalued)
    unvalued_keys = {(f["concept"], f["start"], f["end"], tuple(sorted(f["dims"].items())), f["unit"]) for f in unvalued}
    for key, f in theirs.items():
        mine = ours.get(key)
        in_primary = key in primary
        result.primary += in_primary
        if mine is None:
            result.missing.append((key, f["value"]))
        elif Decimal(str(mine.value)) != Decimal(f["value"]):
            result.wrong.append((key, f["value"], mine.value))
        else:
            result.agree += 1
            result.primary_agree += in_primary
    result.extra = [k for k in ours if k not in theirs and k not in unvalued_keys]
    return result
