"""Ranked passages of a filing's text (BM25), each with its section or page for citation.

A few dozen lines of BM25 beat a dependency here: filings have at most a few thousand passages,
and the index is built once per parsed filing and kept beside it in memory.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from finstream.filings.model import Filing

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were which with".split()
)
PASSAGE_CHARS = 900


def tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


@dataclass
class Passage:
    text: str
    section: str
    page: int | None


class Index:
    def __init__(self, passages: list[Passage], k1: float = 1.4, b: float = 0.75) -> None:
        self.passages = passages
        self.k1, self.b = k1, b
        self.tf = [Counter(tokens(p.section + " " + p.text)) for p in passages]
        self.lengths = [sum(tf.values()) for tf in self.tf]
        self.avg = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0
        df: Counter = Counter()
        for tf in self.tf:
            df.update(tf.keys())
        n = len(passages)
        self.idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in df.items()}

    def search(self, query: str, limit: int) -> list[tuple[float, Passage]]:
        words = [w for w in dict.fromkeys(tokens(query)) if w in self.idf]
        scored = []
        for i, tf in enumerate(self.tf):
            score = 0.0
            norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
            for w in words:
                f = tf.get(w)
                if f:
                    score += self.idf[w] * f * (self.k1 + 1) / (f + norm)
            if score > 0:
                scored.append((score, i))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [(s, self.passages[i]) for s, i in scored[:limit]]


def passages(filing: Filing) -> list[Passage]:
    """Sections cut at line breaks into passages of about PASSAGE_CHARS characters."""
    out: list[Passage] = []
    for section in filing.sections:
        buf: list[str] = []
        size = 0
        for line in section.text.split("\n"):
            line = line.strip()
            if not line:
                continue
            while len(line) > PASSAGE_CHARS * 2:  # one huge line (PDF text) is cut at a space
                cut = line.rfind(" ", 0, PASSAGE_CHARS) if " " in line[:PASSAGE_CHARS] else PASSAGE_CHARS
                buf.append(line[:cut])
                out.append(Passage(" ".join(buf), section.title, section.page))
                buf, size, line = [], 0, line[cut:].strip()
            buf.append(line)
            size += len(line)
            if size >= PASSAGE_CHARS:
                out.append(Passage(" ".join(buf), section.title, section.page))
                buf, size = [], 0
        if buf:
            out.append(Passage(" ".join(buf), section.title, section.page))
    return out


def index_for(filing: Filing) -> Index:
    cached = filing._search_index
    if cached is None:
        cached = Index(passages(filing))
        filing._search_index = cached
    return cached
