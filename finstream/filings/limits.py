"""The bounds a parser keeps to (pages, cells, extracted text, memory, CPU time).

The readers check the counting limits as they go, so a hostile file is refused before it has cost
much; memory and CPU time are enforced by the operating system in the parser process
(finstream/filings/sandbox.py). Values come from the settings (``FINSTREAM_MAX_*``,
``FINSTREAM_PARSE_*``); a parser process is given its own copy when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from finstream.filings.model import FilingError


@dataclass(frozen=True)
class ParseLimits:
    max_pdf_pages: int = 1500
    max_text_chars: int = 64_000_000
    max_xlsx_cells: int = 2_000_000
    memory_mb: int = 1024
    cpu_seconds: int = 60

    @classmethod
    def from_settings(cls, settings: object) -> ParseLimits:
        return cls(
            max_pdf_pages=settings.max_pdf_pages,  # type: ignore[attr-defined]
            max_text_chars=settings.max_text_mb * 1_000_000,  # type: ignore[attr-defined]
            max_xlsx_cells=settings.max_xlsx_cells,  # type: ignore[attr-defined]
            memory_mb=settings.parse_memory_mb,  # type: ignore[attr-defined]
            cpu_seconds=settings.parse_cpu_seconds,  # type: ignore[attr-defined]
        )


_current: ParseLimits | None = None


def set_limits(limits: ParseLimits) -> None:
    global _current
    _current = limits


def limits() -> ParseLimits:
    """The limits in force in this process (the settings' unless a parser process was given some)."""
    global _current
    if _current is None:
        from finstream.settings import get_settings

        _current = ParseLimits.from_settings(get_settings())
    return _current


class TextBudget:
    """Counts characters extracted from one file; past the limit it refuses the file."""

    def __init__(self, filename: str, what: str = "text") -> None:
        self.filename = filename
        self.what = what
        self.limit = limits().max_text_chars
        self.used = 0

    def add(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise FilingError(
                self.filename,
                f"{self.what} over the limit of {self.limit:,} characters extracted from one file "
                "(FINSTREAM_MAX_TEXT_MB); refused",
            )
