"""How the page, the dashboard and the exports mark checked numbers.

An unverified number is marked where it is shown: a warning sign after the value of a metric
tile (the reason in its help), a caption under a chart or a table listing the unverified points
with their reasons, and a red background on the number in the answer's text with a numbered note
below it. Verified and derived numbers are left plain; captions say how many were checked.
The reasons and the numbers' text are escaped: they quote the model and the filings.
"""

from __future__ import annotations

from typing import Any

MARK = "⚠"


def _checks(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    items = (data or {}).get("verification") or []
    return [c for c in items if isinstance(c, dict)]


def unverified(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [c for c in _checks(data) if c.get("status") == "unverified"]


def counts(checks: list[dict[str, Any]]) -> dict[str, int]:
    out = {"verified": 0, "derived": 0, "unverified": 0}
    for c in checks:
        if c.get("status") in out:
            out[c["status"]] += 1
    return out


def status_line(data: dict[str, Any] | None) -> str | None:
    """'Checked against the filings: 9 verified, 1 derived, 1 unverified', or None when unchecked."""
    checks = _checks(data)
    if not checks:
        return None
    n = counts(checks)
    parts = [f"{n[k]} {k}" for k in ("verified", "derived", "unverified") if n[k]]
    return "Checked against the filings: " + ", ".join(parts)


def check_lines(data: dict[str, Any] | None) -> list[str]:
    """One plain line per unverified number: 'Revenue @ FY2024: wrong period: …'."""
    out = []
    for c in unverified(data):
        where = c.get("where") or c.get("text") or c.get("value")
        out.append(f"{MARK} Unverified {where}: {c.get('reason', '')}")
    return out


def metric_value(display: str, data: dict[str, Any]) -> str:
    """The tile's value, with the mark when its value (not only its delta) is unverified."""
    bad = {c.get("where") for c in unverified(data)}
    return f"{display} {MARK}" if "value" in bad else display


def metric_help(help_text: str | None, data: dict[str, Any], escape: Any) -> str | None:
    lines = [escape(line) for line in check_lines(data)]
    if not lines:
        return help_text
    return "\n\n".join([*lines, *([help_text] if help_text else [])])


def render_caption(data: dict[str, Any], escape: Any) -> None:
    """Under a chart or a table: the unverified points (red) and the count of checked ones."""
    import streamlit as st

    for line in check_lines(data):
        st.caption(f":red[{escape(line)}]")
    status = status_line(data)
    if status:
        st.caption(escape(status))


def mark_text(text: str, checks: list[dict[str, Any]], escape: Any) -> tuple[str, list[str]]:
    """The answer's text with each unverified number on a red background and a note number.

    Returns the Markdown and the notes ("[1] $412.3B: reason"). Every piece of the text goes
    through ``escape`` (the page passes ``md_inert``: model text never becomes an image, link or
    HTML), the marked numbers inside their highlight.
    """
    spans = sorted(
        (c for c in checks if c.get("status") == "unverified" and c.get("span")), key=lambda c: c["span"][0]
    )
    out: list[str] = []
    notes: list[str] = []
    pos = 0
    for c in spans:
        start, end = c["span"]
        if start < pos or end > len(text) or text[start:end] != (c.get("text") or text[start:end]):
            continue  # the text changed since the check (a continuation): leave it unmarked
        notes.append(f"[{len(notes) + 1}] {text[start:end]}: {c.get('reason', '')}")
        cut = start - 1 if start > pos and text[start - 1] == "\\" else start  # the model's own "\$" escape
        out += [escape(text[pos:cut]), f":red-background[{escape(text[start:end])}{MARK}{len(notes)}]"]
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out), notes


def text_checks(events_checks: Any) -> list[dict[str, Any]]:
    """NumberCheck models or dicts as dicts."""
    out = []
    for c in events_checks or []:
        out.append(c.model_dump(mode="json") if hasattr(c, "model_dump") else dict(c))
    return out


def render_text_notes(notes: list[str], escape: Any) -> None:
    import streamlit as st

    for note in notes:
        st.caption(f":red[{escape(note)}]")
