"""Cleaning the numbers filings print: ``$1,234``, ``(4)``, ``12.5%``, ``—``, footnote marks, scale words."""

from __future__ import annotations

import re

# A dash alone in a numeric cell means "nothing" in SEC tables; we read it as zero.
DASHES = {"—", "–", "-", "−", "——", "— %", "—%"}
_FOOTNOTE = re.compile(r"\[\d+\]|[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰]+")
_NUMBER = re.compile(r"^\(?-?\d+(?:\.\d+)?\)?$")
_SCALE_WORDS = (
    (re.compile(r"\bin\s+billions\b", re.I), 9),
    (re.compile(r"\bin\s+millions\b", re.I), 6),
    (re.compile(r"\bin\s+thousands\b", re.I), 3),
)


def clean_text(text: object) -> str:
    """Collapse whitespace (including non-breaking spaces) to single spaces."""
    if text is None:
        return ""
    return " ".join(str(text).replace("\xa0", " ").split())


def parse_number(raw: object) -> float | None:
    """The number a cell shows, or None when it shows none.

    ``(4)`` is negative, ``$``/``,``/``%`` go, a lone dash is zero, footnote marks are ignored.
    Percentages come back as shown (``45%`` -> 45.0).
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    text = clean_text(raw)
    if not text:
        return None
    text = _FOOTNOTE.sub("", text).strip()
    if text in DASHES or text in {"$ —", "$—", "$ -"}:
        return 0.0
    text = text.replace("$", "").replace(",", "").replace("%", "").replace(" ", "")
    text = text.replace("−", "-").replace("–", "-")
    if text.endswith(")") and not text.startswith("("):
        text = "(" + text
    if text.startswith("(") and not text.endswith(")"):
        text += ")"
    if not _NUMBER.match(text):
        return None
    negative = text.startswith("(")
    value = float(text.strip("()"))
    return -value if negative else value


def scale_from_text(text: str | None) -> int:
    """Power of ten announced by a heading such as "$ in Millions" or "(in thousands)"."""
    if not text:
        return 0
    for pattern, power in _SCALE_WORDS:
        if pattern.search(text):
            return power
    return 0


def money_scale_from_header(text: str | None) -> int:
    """Scale for dollar amounts in SEC R-page headers ("shares in Thousands, $ in Millions")."""
    if not text:
        return 0
    m = re.search(r"\$\s*in\s+(billions|millions|thousands)", text, re.I)
    if m:
        return {"billions": 9, "millions": 6, "thousands": 3}[m.group(1).lower()]
    if re.search(r"shares?\s+in\s+(billions|millions|thousands)", text, re.I) and not re.search(
        r"(?<!shares )in\s+(billions|millions|thousands)(?!.*shares)", text, re.I
    ):
        return 0
    return scale_from_text(text)
