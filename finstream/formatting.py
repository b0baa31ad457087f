"""Human formatting of financial numbers, shared by the tools, the CLI and the pages."""

from __future__ import annotations

import math
import re

_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def compact_number(value: float, digits: int = 1) -> str:
    """391035000000 -> '391.0B'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    for threshold, suffix in _SCALES:
        if magnitude >= threshold:
            return f"{sign}{magnitude / threshold:,.{digits}f}{suffix}"
    if magnitude == int(magnitude):
        return f"{sign}{magnitude:,.0f}"
    return f"{sign}{magnitude:,.2f}"


def format_value(value: float | None, unit: str | None) -> str:
    """Format a value for a metric tile: '$391.0B', '46.2%', '6.11 USD/share', '15.1B shares'."""
    if value is None:
        return "n/a"
    unit = (unit or "").strip()
    lowered = unit.lower()
    if lowered in ("usd", "$", "dollars"):
        return ("-$" if value < 0 else "$") + compact_number(abs(value))
    if lowered in ("usd/shares", "usd per share", "usd/share", "eps"):
        return f"${value:,.2f}"
    if lowered in ("%", "percent", "pct"):
        return f"{value:,.1f}%"
    if lowered in ("", "pure", "ratio", "x"):
        return f"{value:,.2f}" if abs(value) < 1000 else compact_number(value)
    return f"{compact_number(value)} {unit}"


def tick_label(value: float, unit: str | None) -> str:
    """An axis tick: like format_value, without a trailing '.0' ('$100B', '45%')."""
    return re.sub(r"\.0(?=[KMBT%]|$| )", "", format_value(value, unit))


def column_decimals(values: list[float | int | None], *, most: int = 2) -> int:
    """How many decimals a column of numbers needs: 0 for whole numbers (26,974), up to ``most``."""
    needed = 0
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        for d in range(most + 1):
            if abs(round(float(v), d) - float(v)) < 1e-9 * max(1.0, abs(float(v))):
                needed = max(needed, d)
                break
        else:
            needed = most
    return needed
