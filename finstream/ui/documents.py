"""The documents page: each file of the conversation, what was read from it, or why it failed.

Filing text is shown with st.text, or escaped (never as Markdown or HTML): it is untrusted input.

Opened from a footnote (``?cite=<message id>:<seq>``) or from an artifact's source (``?doc=``,
``concept``, ``period``, ``section``, ``page``, ``table``), the page first shows that place: the
cited passage highlighted in its section (a PDF's page as an image, the passage boxed where its
position on the page is found), or the facts of that concept and periods, highlighted. Every
value of the URL is looked up again in this conversation's own documents and event log.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from finstream.filings.inspect import key_facts
from finstream.formatting import column_decimals, format_value
from finstream.ui import backend
from finstream.ui.artifacts import md_escape
from finstream.ui.deeplinks import parse_cite
from finstream.ui.exports import text_cell, unique_names
from finstream.ui.passages import find_passage, pdf_page_png, window
from finstream.ui.session import current_conversation


def _size(n: int) -> str:
    size: float = n
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


def _remove_document(document_id: str) -> None:
    backend.delete_document(document_id)


def facts_frame(filing: Any) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Concept": f.concept,
                "Label": f.label,
                "Value": format_value(f.value, f.unit),
                "Raw value": f.value,
                "Unit": f.unit,
                "Period": f.source.period or (f"{f.period_start} – {f.period_end}" if f.period_start
                                               else str(f.period_end)),
                "Dimensions": ", ".join(f"{k}={v}" for k, v in f.dimensions.items()),
            }
            for f in filing.facts
        ]
    )


def key_figures_frame(filing: Any) -> pd.DataFrame:
    """The headline metrics by period (what `finstream inspect` prints), with their sources."""
    rows = []
    for series in key_facts(filing, limit=4).values():
        for point in series["points"]:
            src = point.get("source") or {}
            where = " · ".join(str(v) for v in (src.get("concept"), src.get("section"), src.get("page") and f"page {src['page']}") if v)
            rows.append({
                "Metric": series["label"], "Period": point["period"],
                "Value": format_value(point["value"], series["unit"]), "Source": where,
            })
    return pd.DataFrame(rows, columns=["Metric", "Period", "Value", "Source"])


def render_filing(filing: Any, key: str) -> None:
    meta = {
        "Company": filing.company, "Form": filing.form, "Format": filing.format,
        "Fiscal period": filing.fiscal_period,
        "Period end": str(filing.period_end) if filing.period_end else None,
        "Filed": str(filing.filing_date) if filing.filing_date else None,
        "CIK": filing.cik, "Ticker": filing.ticker,
    }
    # Compact, not metric tiles: these are labels, not figures.
    st.markdown("  ·  ".join(f"**{label}:** {md_escape(value)}" for label, value in meta.items() if value))
    for warning in filing.warnings:
        st.warning(md_escape(warning), icon=":material/warning:")
    key_tab, *tabs = st.tabs(["Key figures", f"Facts ({len(filing.facts)})",
                              f"Tables ({len(filing.tables)})", f"Sections ({len(filing.sections)})"])
    with key_tab:
        figures = key_figures_frame(filing)
        if figures.empty:
            st.caption("No revenue, profit, EPS, assets or cash figures recognised in this file.")
        else:
            st.dataframe(figures, hide_index=True, key=f"{key}-key")
    with tabs[0]:
        if filing.facts:
            frame = facts_frame(filing)
            places = column_decimals(list(frame["Raw value"]), most=4)
            st.dataframe(frame, hide_index=True, key=f"{key}-facts",
                         column_config={"Raw value": st.column_config.NumberColumn(format=f"%,.{places}f")})
        else:
            st.caption("No tagged facts in this file.")
    with tabs[1]:
        if not filing.tables:
            st.caption("No tables found.")
        for i, table in enumerate(filing.tables[:50]):
            with st.expander(md_escape(table.title) if table.title else f"Table {i + 1}"):
                if table.unit_note:
                    st.caption(md_escape(table.unit_note))
                frame = pd.DataFrame(
                    [list(r) + [None] * (len(table.columns) - len(r)) for r in table.rows],
                    columns=unique_names(table.columns),
                ).map(text_cell)  # blanks, not "None"/"nan"; 26,974 not 26974.0
                st.dataframe(frame, hide_index=True, key=f"{key}-table-{i}")
        if len(filing.tables) > 50:
            st.caption(f"{len(filing.tables) - 50} more tables not shown.")
    with tabs[2]:
        if not filing.sections:
            st.caption("No text sections found.")
        for i, section in enumerate(filing.sections[:100]):
            title = md_escape(section.title) if section.title else f"Section {i + 1}"
            if section.page:
                title += f" (page {section.page})"
            with st.expander(title):  # expander labels are Markdown
                st.text(section.text[:20000] + ("…" if len(section.text) > 20000 else ""))


def render() -> None:
    conversation_id = current_conversation(create=False)
    st.title("Documents", anchor=False)
    if conversation_id is None:
        st.info("No conversation yet. Upload filings on the Analysis page.")
        return
    docs = backend.list_documents(conversation_id)
    if not docs:
        st.info("This conversation has no documents. Attach files with the paperclip on the "
                "Analysis page.", icon=":material/upload_file:")
        return
    render_focus(conversation_id, docs)
    ok = sum(1 for d in docs if d.ok)
    st.caption(f"{ok} of {len(docs)} files read")
    for info in docs:
        icon = ":material/description:" if info.ok else ":material/error:"
        with st.expander(f"{md_escape(info.filename)} · {_size(info.size)}", expanded=not info.ok or len(docs) == 1,
                         icon=icon):
            if not info.ok:
                st.error(md_escape(info.error), icon=":material/error:")
                st.button("Remove this file", key=f"doc-remove-{info.id}", icon=":material/delete:",
                          on_click=_remove_document, args=(info.id,))
                continue
            doc = backend.get_document(info.id)
            if doc is None or doc.filing is None:
                st.error(f"{md_escape(info.filename)}: the parsed form is missing.")
                continue
            render_filing(doc.filing, key=f"doc-{info.id}")


# ---------------------------------------------------------------- opened at a passage or a fact

HIGHLIGHT = ":orange-background[{}]"


def _filing_of(docs: list[Any], filename: str) -> tuple[Any, Any]:
    """(stored document, parsed filing) of the conversation's file by that name, or (None, None)."""
    info = next((d for d in docs if d.ok and d.filename == filename), None)
    doc = backend.get_document(info.id) if info is not None else None
    return (doc, doc.filing) if doc is not None and doc.filing is not None else (None, None)


def render_focus(conversation_id: str, docs: list[Any]) -> None:
    cite = parse_cite(st.query_params.get("cite"))
    if cite is not None:
        render_cited(conversation_id, docs, *cite)
    elif st.query_params.get("doc"):
        render_source(docs, st.query_params)


def render_cited(conversation_id: str, docs: list[Any], message_id: str, seq: int) -> None:
    """The passage a footnote cites, highlighted where it stands in the filing."""
    c = backend.citation(conversation_id, message_id, seq)
    if c is None:
        st.warning("That footnote is not part of this conversation.", icon=":material/link_off:")
        return
    quote = str(c.get("quoted_text") or "")
    where = " · ".join(str(x) for x in (c.get("filing"), c.get("section"),
                                         c.get("page") and f"page {c['page']}") if x)
    with st.container(border=True, key="cited-passage"):
        st.markdown(f":material/format_quote: **Cited passage** · {md_escape(where)}")
        doc, filing = _filing_of(docs, str(c.get("filing") or ""))
        if filing is None:
            st.caption("The cited filing is no longer in this conversation; the quoted text:")
            st.markdown(HIGHLIGHT.format(md_escape(" ".join(quote.split()))))
            return
        found = find_passage(filing, c.get("section"), c.get("page"), quote)
        if found is None:
            st.caption("The quoted text was not found in the filing's text as parsed; as quoted:")
            st.markdown(HIGHLIGHT.format(md_escape(" ".join(quote.split()))))
        else:
            section, start, end = found
            before, hit, after = window(section.text, start, end)
            st.caption(md_escape(section.title or "") + (f" (page {section.page})" if section.page else ""))
            st.markdown(md_escape(before) + HIGHLIGHT.format(md_escape(hit)) + md_escape(after))
        page = c.get("page") or (found[0].page if found else None)
        if filing.format == "pdf" and page and doc.data:
            png, boxed = pdf_page_png(doc.data, int(page), quote)
            if png:
                st.image(png, caption=f"Page {page}" + ("" if boxed else " (the passage's position on the page "
                                                                      "was not found)"))


def render_source(docs: list[Any], params: Any) -> None:
    """The place an artifact's source names: the facts of its concept and periods (highlighted),
    else its table or its section/page."""
    filename = str(params.get("doc") or "")
    concept, section, table = params.get("concept"), params.get("section"), params.get("table")
    page = params.get("page")
    periods = [p for p in params.get_all("period") if p]
    with st.container(border=True, key="figure-source"):
        what = " · ".join(md_escape(x) for x in (filename, concept or section or table, ", ".join(periods)) if x)
        st.markdown(f":material/description: **Source** · {what}")
        _doc, filing = _filing_of(docs, filename)
        if filing is None:
            st.caption("That filing is not in this conversation.")
            return
        if concept:
            rows = [f for f in filing.facts if concept in (f.concept, f.label)
                    and (not periods or (f.source.period or "") in periods)]
            if rows:
                frame = facts_frame(_Facts(rows))
                st.dataframe(frame.style.apply(lambda r: ["background-color: #ffe08a"] * len(r), axis=1),
                             hide_index=True, key="figure-source-facts")
                return
            st.caption("No fact of that concept and period in this filing.")
        if table:
            match = next((t for t in filing.tables if t.title == table), None)
            if match is not None:
                st.caption(md_escape(table))
                st.dataframe(pd.DataFrame([list(r) for r in match.rows]).map(text_cell), hide_index=True,
                             key="figure-source-table")
                return
        if section or page:
            sec = next((s for s in filing.sections if (not section or s.title == section)
                        and (not page or str(s.page) == str(page))), None)
            if sec is not None:
                st.caption(md_escape(sec.title or "") + (f" (page {sec.page})" if sec.page else ""))
                st.text(sec.text[:4000] + ("…" if len(sec.text) > 4000 else ""))


class _Facts:
    """The facts_frame input shape for a subset of a filing's facts."""

    def __init__(self, facts: list[Any]) -> None:
        self.facts = facts
