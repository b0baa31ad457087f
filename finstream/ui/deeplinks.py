"""Links from an answer to the place in a filing it rests on: the Documents page opened at a cited
passage (a footnote) or at the facts behind a figure (an artifact's source).

A link is an ``st.page_link`` to the app's own Documents page with query parameters that name
things by id or file name (``cite=<message id>:<seq>``, ``doc``/``concept``/``period``/``section``/
``page``). A footnote names its citation event by message id and seq (unique in the conversation,
also when a continued answer numbers its citations again). It never carries a URL taken from model or filing text, and the page looks every value
up again in the conversation's own store before it shows anything.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from finstream.ui.inert import md_escape

DOCUMENTS_PAGE = "pages/documents.py"
CITE = "cite"
SOURCE_KEYS = ("doc", "concept", "period", "section", "page", "table")
MAX_SOURCE_LINKS = 4


def available() -> bool:
    """Links need the Documents page, which a read-only share link does not have."""
    return not st.query_params.get("share")


def _conversation() -> str | None:
    from finstream.ui.session import KEY

    value = st.session_state.get(KEY)
    return str(value) if value else None


def citation_params(conversation_id: str, message_id: str, seq: int) -> dict[str, str]:
    return {"c": conversation_id, CITE: f"{message_id}:{int(seq)}"}


def parse_cite(value: str | None) -> tuple[str, int] | None:
    """(message id, the citation event's seq) from a ``cite`` parameter, or None if it is not one."""
    if not value or ":" not in value:
        return None
    message_id, _, seq = value.rpartition(":")
    return (message_id, int(seq)) if message_id and seq.isdigit() else None


def source_params(conversation_id: str, source: dict[str, Any], periods: list[str] | None = None) -> dict[str, Any]:
    """The Documents page at one source: its filing and the concept (with the periods shown), or
    the section/page/table it names."""
    params: dict[str, Any] = {"c": conversation_id, "doc": str(source.get("document") or "")}
    for key in ("concept", "section", "table"):
        if source.get(key):
            params[key] = str(source[key])
    if source.get("page"):
        params["page"] = str(source["page"])
    if periods:
        params["period"] = periods
    return params


def footnote_link(label: str, message_id: str, seq: int) -> None:
    """One footnote under an answer, as a link to its passage (plain text where links cannot go)."""
    conversation_id = _conversation()
    if not available() or not conversation_id:
        st.caption(md_escape(label))
        return
    st.page_link(DOCUMENTS_PAGE, label=md_escape(label), icon=":material/format_quote:",
                 query_params=citation_params(conversation_id, message_id, seq))


def grouped_sources(sources: list[Any]) -> list[tuple[dict[str, Any], list[str]]]:
    """Sources grouped by filing and concept (or section/page/table), with their periods in order."""
    groups: dict[tuple, tuple[dict[str, Any], list[str]]] = {}
    for src in sources:
        if not isinstance(src, dict) or not src.get("document"):
            continue
        key = (src.get("document"), src.get("concept"), src.get("section"), src.get("page"), src.get("table"))
        first, periods = groups.setdefault(key, (src, []))
        if src.get("period") and src["period"] not in periods:
            periods.append(str(src["period"]))
    return list(groups.values())


def render_source_links(data: dict[str, Any]) -> None:
    """Under a chart or a table: "Open in Documents" for each filing and concept it shows."""
    conversation_id = _conversation()
    if not available() or not conversation_id:
        return
    for src, periods in grouped_sources(data.get("sources") or [])[:MAX_SOURCE_LINKS]:
        what = " · ".join(str(x) for x in (src.get("document"), src.get("concept") or src.get("section")
                                           or src.get("table"), ", ".join(periods)) if x)
        st.page_link(DOCUMENTS_PAGE, label=md_escape(f"Open {what}"), icon=":material/description:",
                     query_params=source_params(conversation_id, src, periods))
