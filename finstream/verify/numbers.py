"""Numbers as people write them: "$391.0B", "$391,035 million", "(4,863)", "-1.6%", "down 1.0%",
"15.1 billion shares", each with its value in units and the rounding its digits imply.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

SCALES = {
    "t": 1e12, "tn": 1e12, "trillion": 1e12,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9,
    "m": 1e6, "mm": 1e6, "mn": 1e6, "million": 1e6, "millions": 1e6,
    "k": 1e3, "thousand": 1e3, "thousands": 1e3,
}
# A number starts where a run of digits starts: without the look-behind every regex below would also
# try each position inside a long digit run, which is quadratic in its length (an 8,000-digit run
# took 20 s of CPU to check).
_NUM = r"(?<!\d)(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SCALE = r"trillion|billions?|millions?|thousands?|bn|mm|mn|tn|[TBMK](?![A-Za-z])"
_COUNT_UNITS = r"shares|employees|stores|customers|subscribers|users|units|locations|restaurants|members|accounts"
_MONEY = re.compile(
    rf"(?P<sign>[-−–+]\s?)?(?P<open>\()?\s?(?P<cur>US\$|\$|USD\s?)\s?(?P<sign2>[-−])?(?P<open2>\()?(?P<num>{_NUM})"
    rf"(?P<close>\))?(?:\s?(?P<scale>{_SCALE})\b)?(?P<close2>\))?"
    rf"(?P<per>\s?(?:per|a|/)\s?(?:diluted\s+|basic\s+)?share)?",
    re.I,
)
_PERCENT = re.compile(
    rf"(?P<open>\()?(?P<sign>[-−–+])?(?P<num>{_NUM})(?P<close>\))?\s?(?:%|\s?percent\b|\s?per\s?cent\b)", re.I
)
_SCALED = re.compile(
    rf"(?P<open>\()?(?P<sign>[-−])?(?P<num>{_NUM})(?P<close>\))?\s?(?P<scale>trillion|billion|million|thousand)s?\b"
    rf"(?:\s+(?P<unit>{_COUNT_UNITS}|dollars|usd)\b)?",
    re.I,
)
_COUNT = re.compile(rf"(?P<num>{_NUM})\s?(?P<scale>[BMK](?![A-Za-z]))?\s+(?P<unit>{_COUNT_UNITS})\b", re.I)

_DOWN = re.compile(
    r"\b(down|fell|fall|falling|decreased?|decreasing|declined?|declining|dropped|drop|lower|shrank|"
    r"contracted|slipped|reduced|reduction|loss of|negative)\b[^.%$\d]{0,25}$",
    re.I,
)
_UP = re.compile(
    r"\b(up|rose|rise|rising|increased?|increasing|grew|grow|growth|gained?|higher|climbed|expanded|jumped)\b[^.%$\d]{0,25}$",
    re.I,
)
_DOWN_AFTER = re.compile(r"^\s*(decrease|decline|drop|fall|lower|reduction|contraction)\b", re.I)
_UP_AFTER = re.compile(r"^\s*(increase|rise|gain|growth|higher|jump)\b", re.I)
_LOSS_BEFORE = re.compile(r"\b(loss|losses|deficit|outflows?|used in)\b[^.$\d]{0,30}$", re.I)


@dataclass(frozen=True)
class Written:
    """A number found in a text."""

    start: int
    end: int
    text: str
    value: float  # in units: "$391.0B" -> 391e9; percentages as shown: "46.2%" -> 46.2
    tolerance: float  # half a unit of the last written digit, in units
    kind: str  # money, per_share, percent, count, number
    direction: int = 0  # +1 / -1 when words say up or down ("down 1.6%"), 0 when silent
    loss: bool = False  # the words call it a loss ("a net loss of $1.3B")


def digits_tolerance(num: str, scale: float = 1.0) -> float:
    """Half a unit of the last written digit: "391.0" -> 0.05, "391" -> 0.5, times the scale.

    Three or more trailing zeros of a whole number count as rounding ("391,000,000,000" is 391
    billion to the nearest billion) as long as three significant digits remain; fewer are digits
    ("3,660" is not "about 3,700").
    """
    num = num.replace(",", "")
    if "." in num:
        decimals = len(num.split(".", 1)[1])
        return 0.5 * 10.0 ** (-decimals) * scale
    digits = num.lstrip("0") or "0"
    zeros = len(digits) - len(digits.rstrip("0"))
    zeros = min(zeros, max(0, len(digits) - 3)) if zeros >= 3 else 0
    return 0.5 * 10.0**zeros * scale


def float_tolerance(value: float, scale: float = 1.0) -> float:
    """The rounding a typed JSON number implies (a float that is whole counts as written whole)."""
    if value is None or not math.isfinite(value):
        return 0.0
    text = repr(float(value))
    if "e" in text or "E" in text:
        return abs(value) * 1e-9 * scale + 1e-12
    if text.endswith(".0"):
        text = text[:-2]
    return digits_tolerance(text.lstrip("-"), scale)


def _direction(before: str, after: str) -> int:
    if _DOWN.search(before) or _DOWN_AFTER.match(after):
        return -1
    if _UP.search(before) or _UP_AFTER.match(after):
        return 1
    return 0


def _bounds(m: re.Match[str], value: float) -> tuple[int, int, float]:
    """Span and signed value: "(4,863)" and "-" are negative; a lone parenthesis is punctuation."""
    start, end = m.start(), m.end()
    text = m.group(0)
    num_at = m.start("num") - start
    opens = text[:num_at].count("(")
    closes = text[num_at:].count(")")
    if opens and not closes:
        start += text.index("(") + 1
    elif closes and not opens:
        end = start + text.rindex(")")
    while start < end and m.string[start].isspace():
        start += 1
    while end > start and m.string[end - 1].isspace():
        end -= 1
    negative = bool(opens and closes)
    groups = m.groupdict()
    for key in ("sign", "sign2"):
        if (groups.get(key) or "").strip() in ("-", "−", "–"):
            negative = True
    if (groups.get("sign") or "").strip() == "+" and m.string[start] == "+":
        start += 1
    return start, end, (-value if negative else value)


def find_numbers(text: str) -> list[Written]:
    """Money, percentages, counts with units and scaled numbers in text, left to right.

    Bare numbers (years, page and item numbers, "10-K") are not figures and are not returned.
    """
    out: list[Written] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return not any(s < te and ts < e for ts, te in taken)

    for m in _MONEY.finditer(text):
        raw = m.group("num")
        scale = SCALES.get((m.group("scale") or "").lower().rstrip("."), 1.0)
        start, end, value = _bounds(m, float(raw.replace(",", "")) * scale)
        kind = "per_share" if m.group("per") else "money"
        before = text[max(0, start - 60) : start]
        out.append(Written(start, end, text[start:end], value, digits_tolerance(raw, scale), kind,
                           loss=bool(_LOSS_BEFORE.search(before))))
        taken.append((start, end))
    for m in _PERCENT.finditer(text):
        raw = m.group("num")
        start, end, value = _bounds(m, float(raw.replace(",", "")))
        if not free(start, end):
            continue
        before, after = text[max(0, start - 60) : start], text[end : end + 20]
        out.append(Written(start, end, text[start:end].strip(), value, digits_tolerance(raw), "percent",
                           direction=_direction(before, after)))
        taken.append((start, end))
    for m in _SCALED.finditer(text):
        raw = m.group("num")
        scale = SCALES[m.group("scale").lower()]
        start, end, value = _bounds(m, float(raw.replace(",", "")) * scale)
        if not free(start, end):
            continue
        unit = (m.group("unit") or "").lower()
        kind = "money" if unit in ("dollars", "usd") else "count" if unit else "number"
        before = text[max(0, start - 60) : start]
        out.append(Written(start, end, text[start:end].strip(), value, digits_tolerance(raw, scale), kind,
                           loss=bool(_LOSS_BEFORE.search(before))))
        taken.append((start, end))
    for m in _COUNT.finditer(text):
        if not free(m.start(), m.end()):
            continue
        raw = m.group("num")
        if re.fullmatch(r"(19|20)\d\d", raw):
            continue
        scale = SCALES.get((m.group("scale") or "").lower(), 1.0)
        out.append(Written(m.start(), m.end(), m.group(0), float(raw.replace(",", "")) * scale,
                           digits_tolerance(raw, scale), "count"))
        taken.append((m.start(), m.end()))
    out.sort(key=lambda w: w.start)
    return out


def scale_of(text: str | None) -> float | None:
    """The scale a unit or note states: "USD millions", "$B", "in thousands" -> 1e6, 1e9, 1e3."""
    if not text:
        return None
    t = text.lower()
    for word, scale in (("trillion", 1e12), ("billion", 1e9), ("million", 1e6), ("thousand", 1e3)):
        if word in t:
            return scale
    m = re.search(r"(?:usd|\$)\s*\(?\s*(bn|mm|mn|[tbmk])\b\)?|\b(bn|mm|mn|[tbmk])\s*(?:usd|\$)", t)
    if m:
        return SCALES[(m.group(1) or m.group(2))]
    return None
