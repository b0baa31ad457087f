"""The numbers in an answer's text: found with their spans, given the period and the line item the
words around them name, and checked.
"""

from __future__ import annotations

import re
from dataclasses import replace

from finstream.verify.check import Claim, check_claim
from finstream.verify.facts import FactIndex
from finstream.verify.model import NumberCheck
from finstream.verify.numbers import Written, find_numbers
from finstream.verify.periods import Mention, Period, find_periods, parse_period, ranges

_SENTENCE = re.compile(r"[^\n]*?(?:[.!?](?=\s|$)|\n|$)")
_SUBJECTS = re.compile(
    r"\b(total net sales|net sales|revenues?|sales|gross (?:profit|margin)|operating (?:income|margin|loss|expenses)|"
    r"net (?:income|loss|earnings|margin)|(?:diluted |basic )?(?:eps|earnings per share)|total assets|"
    r"total liabilities|(?:shareholders'|stockholders'|total) equity|cash and cash equivalents|cash|"
    r"cost of (?:revenue|sales)|research and development|r&d|operating cash flow|cash from operations|"
    r"long-term debt|free cash flow)\b",
    re.I,
)
_RELATIVE = re.compile(r"\b(a year earlier|the prior year|prior[- ]year|previous year|year[- ]ago|last year)\b", re.I)
_COMPARED = re.compile(r"\b(from|compared|against|versus|vs|than)\b", re.I)
_GAP_MAX = 60  # "$303.5 million for the prior year 13-week fiscal period ended October 28, 2023"


def _sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.end() > m.start()]


def _earlier(p: Period) -> Period:
    if p.year is None:
        return p
    return Period(p.kind, p.year - 1, None, p.loose)


def subject_of(sentence: str, upto: int) -> str | None:
    found = [m.group(1) for m in _SUBJECTS.finditer(sentence[:upto])]
    if not found:
        return None
    word = found[-1].lower()
    return {"sales": "revenue", "net sales": "revenue", "total net sales": "revenue", "gross margin": "gross profit",
            "operating margin": "operating income", "net margin": "net income", "net earnings": "net income",
            "net loss": "net income", "operating loss": "operating income",
            "cash from operations": "operating cash flow", "r&d": "research and development"}.get(word, word)


def _table_claim(text: str, w: Written, line: tuple[int, int], lines: list[tuple[int, int]]) -> dict | None:
    """Periods and line items of a Markdown table: the header row names the columns."""
    start, end = line
    row = text[start:end]
    if not row.lstrip().startswith("|"):
        return None
    block = [ln for ln in lines if text[ln[0] : ln[1]].lstrip().startswith("|") and ln[0] <= start]
    header_line = None
    for ln in reversed(block):  # the first line of this table block
        if ln[1] < start and not text[ln[1] : start].strip().replace("\n", "").startswith("|") and "\n\n" in text[ln[1]:start]:
            break
        header_line = ln
    if header_line is None:
        return None
    header = [c.strip() for c in text[header_line[0] : header_line[1]].strip().strip("|").split("|")]
    cells = row.strip().strip("|").split("|")
    offset = start + row.index(row.strip()) + (1 if row.strip().startswith("|") else 0)
    col = 0
    pos = offset
    for i, cell in enumerate(cells):
        if pos <= w.start < pos + len(cell) + 1:
            col = i
            break
        pos += len(cell) + 1
    head = header[col] if col < len(header) else ""
    first = cells[0].strip() if cells else ""
    period = parse_period(head) or parse_period(first)
    concept = first if parse_period(head) else head
    return {"period": period, "concept": concept}


def claims_in(text: str) -> list[Claim]:
    """One claim per number in text, with the period and line item its words give it."""
    numbers = find_numbers(text)
    mentions = find_periods(text)
    spans = _sentences(text)
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]*", text)]
    claims: list[Claim] = []
    for w in numbers:
        s0, s1 = next(((a, b) for a, b in spans if a <= w.start < b), (0, len(text)))
        in_sentence = [m for m in mentions if s0 <= m.start < s1]
        claim = Claim(value=w.value, tolerance=w.tolerance, kind=w.kind, text=w.text, direction=w.direction,
                      loss=w.loss, span=(w.start, w.end))
        line = next(((a, b) for a, b in lines if a <= w.start <= b), None)
        table = _table_claim(text, w, line, lines) if line else None
        if table is not None:
            claims.append(replace(claim, period=table["period"], concepts=(table["concept"],) if table["concept"] else ()))
            continue
        subject = subject_of(text[s0:s1], w.start - s0)
        if subject:
            claim = replace(claim, concepts=(subject,))
        attached = _attached(text, w, in_sentence, numbers)
        if attached is not None:
            claims.append(replace(claim, period=attached.period))
            continue
        before = [m for m in in_sentence if m.end <= w.start]
        if w.kind == "percent":
            claims.append(replace(claim, periods=tuple(m.period for m in in_sentence)))
            continue
        if not before:
            claims.append(claim)
            continue
        last = before[-1]
        candidates = [last.period]
        in_range = False
        for a, b in ranges(text, in_sentence):
            if b is last or a is last:
                candidates, in_range = [a.period, b.period], True
        if _RELATIVE.search(text[last.end : min(s1, w.end + 30)]):
            candidates = [_earlier(p) for p in candidates]
        elif not in_range and _COMPARED.search(text[last.end : w.start]):
            claims.append(claim)  # "… in FY2024, up from $383.3B": the comparison's period is not named
            continue
        claims.append(replace(claim, period=candidates[-1], period_firm=False, periods=tuple(candidates)))
    return claims


def _attached(text: str, w: Written, mentions: list[Mention], numbers: list[Written]) -> Mention | None:
    """The period written right after a number ("$391.0B in FY2024"), before any other number."""
    for m in mentions:
        if m.start < w.end:
            continue
        gap = text[w.end : m.start]
        if len(gap) > _GAP_MAX or ";" in gap or any(w.end <= n.start < m.start for n in numbers):
            return None
        if re.search(r"\b(from|compared|versus|vs|against|than)\b", gap, re.I):
            return None
        return m
    return None


def check_text(text: str, index: FactIndex) -> list[NumberCheck]:
    """Check every number in an answer's text."""
    return [check_claim(c, index) for c in claims_in(text)]
