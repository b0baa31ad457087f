"""The documents page: each file of the conversation, what was read from it, or why it failed.

Filing text is shown with st.text (never as Markdown or HTML): it is untrusted input.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from finstream.filings.inspect import key_facts
from finstream.formatting import column_decimals, format_value
from finstream.ui import backend
from finstream.ui.artifacts import md_escape
from finstream.ui.exports import text_cell, unique_names
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
