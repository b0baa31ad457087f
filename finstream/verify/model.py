"""What a check says about one number: its status, why, and the facts behind it (pure data)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["verified", "derived", "unverified"]


class FactRef(BaseModel):
    """One fact a number was checked against."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable fact id (see finstream.verify.facts.fact_id).")
    document: str = Field(description="File name of the filing the fact is in.")
    concept: str = Field(description="XBRL concept or printed line item.")
    label: str | None = Field(None, description="Human label of the concept.")
    period: str | None = Field(None, description="Period label, e.g. FY2024 or Q2 FY2025.")
    start: str | None = Field(None, description="Start of the duration (ISO date); null for an instant.")
    end: str | None = Field(None, description="End of the duration or the instant (ISO date).")
    value: float = Field(description="The fact's value in units (dollars, not millions).")
    unit: str = Field(description="USD, USD/shares, shares, pure, ...")
    context: str | None = Field(None, description="XBRL context or accession the fact was reported in.")
    section: str | None = Field(None, description="Section or page of a quoted passage, for text facts.")


class NumberCheck(BaseModel):
    """The check of one number shown to the user (in an artifact or in the answer text)."""

    model_config = ConfigDict(extra="forbid")

    value: float = Field(description="The number as shown, in units (391.0B -> 391000000000).")
    text: str | None = Field(None, description="The number as written, e.g. '$391.0B' or '-1.6%'.")
    kind: str = Field("number", description="money, per_share, percent, count or number.")
    period: str | None = Field(None, description="The period the answer gives the number for, if any.")
    status: Status = Field(
        description="verified: equals a fact (allowing for scale and rounding); derived: recomputes "
        "from verified facts (see formula); unverified: neither (see reason)."
    )
    reason: str = Field(description="Why, in words a reader can check.")
    formula: str | None = Field(
        None, description="For derived numbers: growth, cagr, margin, ratio, sum, difference or change."
    )
    facts: list[FactRef] = Field(default_factory=list, description="The fact(s) behind the status.")
    span: list[int] | None = Field(
        None, description="[start, end) character offsets in the answer text, for text numbers."
    )
    where: str | None = Field(
        None, description="Where in an artifact: 'value', 'delta', 'Revenue @ FY2024', 'row 2, Revenue'."
    )


def summary(checks: list[NumberCheck]) -> dict[str, int]:
    """{'verified': n, 'derived': n, 'unverified': n}."""
    out = {"verified": 0, "derived": 0, "unverified": 0}
    for c in checks:
        out[c.status] += 1
    return out
