"""Turning ragged SEC table rows into clean columns.

EDGAR tables put ``$``, ``)`` and ``%`` in cells of their own and use colspans for headings, so a
value's grid column drifts by one or two between rows. Columns are found by clustering the grid
positions of numbers: positions that never hold numbers in the same row and sit side by side are
one logical column. Headings are then matched to columns by the span they cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from finstream.filings.numbers import clean_text, parse_number

_SYMBOLS = {"$", ")", "%", "(", "€", "£", "%)", "pts", "bps"}


@dataclass
class Cell:
    start: int  # first grid column covered
    end: int  # one past the last
    text: str


def _is_value(text: str) -> bool:
    return parse_number(text) is not None


def build_rows(grid: list[list[Cell]]) -> tuple[list[str], list[list[object]]]:
    """(columns, rows) from positioned cells; the first column is the line item label."""
    grid = [[c for c in row if c.text and c.text not in _SYMBOLS] for row in grid]
    grid = [row for row in grid if row]
    if not grid:
        return [], []

    def values(row: list[Cell]) -> list[Cell]:
        return [c for c in row if c.start > 0 and _is_value(c.text)]

    data_rows = [i for i, row in enumerate(grid) if values(row) and not _looks_like_heading(row)]
    if not data_rows:
        return ["Text"], [[" ".join(c.text for c in row)] for row in grid]
    positions: dict[int, set[int]] = {}
    for i in data_rows:
        for c in values(grid[i]):
            positions.setdefault(c.start, set()).add(i)
    clusters: list[tuple[list[int], set[int]]] = []
    for pos in sorted(positions):
        rows = positions[pos]
        if clusters and pos - clusters[-1][0][-1] <= 3 and not (clusters[-1][1] & rows):
            clusters[-1][0].append(pos)
            clusters[-1][1].update(rows)
        else:
            clusters.append(([pos], set(rows)))
    first_value = min(p for members, _ in clusters for p in members)
    # Headings: rows above the first data row; a heading cell names each column its span covers.
    # Label-only rows just above the first numbers ("Net sales:") belong to the body, not the heading.
    header_end = data_rows[0]
    while header_end > 0 and all(c.start == 0 for c in grid[header_end - 1]):
        header_end -= 1
    header_rows = grid[:header_end]
    names: list[str] = []
    for members, _ in clusters:
        lo, hi = min(members), max(members)
        parts = []
        for row in header_rows:
            # Cells starting in the label column are titles over the whole table, not headings.
            parts += [c.text for c in row if c.start > 0 and c.start <= hi and c.end > lo]
        names.append(clean_text(" ".join(dict.fromkeys(parts))))
    columns = [clean_text(" ".join(c.text for row in header_rows for c in row if c.end <= first_value)) or "Item"]
    columns += [n or f"Column {k + 1}" for k, n in enumerate(names)]
    out: list[list[object]] = []
    for i, row in enumerate(grid):
        if i < header_end:
            continue
        label = clean_text(" ".join(c.text for c in row if c.start < first_value and not _is_value(c.text)))
        cells: list[object] = [label]
        for members, _ in clusters:
            hit = next((c for c in row if c.start in members and _is_value(c.text)), None)
            cells.append(parse_number(hit.text) if hit else None)
        if any(v is not None for v in cells[1:]) or label:
            out.append(cells)
    return columns, out


def _looks_like_heading(row: list[Cell]) -> bool:
    """A row whose numbers are all bare years ("2024 2023", printed without commas) is a heading."""
    texts = [c.text for c in row if c.start > 0 and _is_value(c.text)]
    return bool(texts) and all(t.isdigit() and len(t) == 4 and t[:2] in ("19", "20") for t in texts)


def rows_from_plain(rows: Sequence[Sequence[object]]) -> list[list[Cell]]:
    """Cells for rows without colspans (pdfplumber output, CSV)."""
    return [[Cell(i, i + 1, clean_text(v)) for i, v in enumerate(row)] for row in rows]
