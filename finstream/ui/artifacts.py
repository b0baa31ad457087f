"""Rendering artifacts: charts as ``st.plotly_chart``, tables as ``st.dataframe`` with column
formats, metrics as ``st.metric``; every one with its sources and its downloads.

Text that came from the model or a filing goes through :func:`md_escape` before Streamlit's
Markdown sees it, and nothing here ever uses ``unsafe_allow_html``.
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from finstream.artifacts import Artifact
from finstream.formatting import format_value
from finstream.ui import exports
from finstream.ui.deeplinks import render_source_links
from finstream.ui.inert import md_escape, md_inert  # noqa: F401  (re-exported for the pages)
from finstream.ui.verification import metric_help, metric_value, render_caption

# Words that mark a figure where a rise is bad news (red), so its tile uses the inverse colours.
_COST_WORDS = re.compile(r"\b(cost|costs|expense|expenses|debt|liabilit\w*|loss|losses|capex)\b", re.I)


def sources_of(data: dict[str, Any]) -> list[str]:
    return exports.source_lines(data.get("sources") or [])


def render_sources(data: dict[str, Any], *, expander_over: int = 2) -> None:
    """A caption for one or two sources, an expander for more; a note when there are none."""
    lines = sources_of(data)
    if not lines:
        st.caption("Source: not given")
        return
    if len(lines) <= expander_over:
        st.caption("Source: " + "; ".join(md_escape(line) for line in lines))
    else:
        with st.expander(f"Sources ({len(lines)})", icon=":material/description:"):
            for line in lines:
                st.caption(md_escape(line))
    render_source_links(data)  # issue 14: each source opens the Documents page at the figure


def delta_color(data: dict[str, Any]) -> str:
    """The tile's delta colour: the tool's choice, but a cost or expense is always inverse."""
    chosen = data.get("delta_color") or "normal"
    if chosen == "normal" and _COST_WORDS.search(str(data.get("label") or "")):
        return "inverse"
    return chosen


def render_metric(art: Artifact, *, key_prefix: str = "", width: int | str = "stretch") -> None:
    data = art.data
    value = data.get("display") or format_value(data.get("value"), data.get("unit"))
    delta = data.get("delta_display")
    if delta is None and data.get("delta") is not None:
        delta = f"{float(data['delta']):+.1f}%"
    lines = sources_of(data)
    help_text = "Source: " + "; ".join(md_escape(line) for line in lines) if lines else None
    value, help_text = metric_value(value, data), metric_help(help_text, data, md_escape)
    st.metric(
        md_escape(data.get("label") or art.title),
        value,
        delta=delta,
        delta_color=delta_color(data),  # type: ignore[arg-type]
        help=help_text,
        border=True,
        width=width,  # type: ignore[arg-type]
    )


def render_chart(art: Artifact, *, key_prefix: str = "", downloads: bool = True) -> None:
    data = art.data
    with st.container(border=True):
        st.plotly_chart(
            exports.chart_figure(data),
            key=f"{key_prefix}{art.key}",
            config={"displaylogo": False, "responsive": True},
            theme="streamlit",
        )
        render_sources(data)
        render_caption(data, md_escape)
        if downloads:
            html = _deferred(exports.chart_html, data)
            st.download_button(
                "Chart (HTML)",
                data=html,
                file_name=exports.safe_filename(art.title, "html", "chart"),
                mime="text/html",
                key=f"{key_prefix}{art.key}-html",
                on_click="ignore",  # no rerun: a download must not cut a stream short
                icon=":material/download:",
                type="tertiary",
            )


def column_config(data: dict[str, Any]) -> dict[str, Any]:
    """Streamlit column formats for the table tool's column formats.

    The tool's percent cells hold 12.5 for 12.5%, while Streamlit's "percent" preset multiplies
    by 100, so percent columns use a printf format instead.
    """
    columns = data.get("columns") or []
    names = exports.unique_names(c.get("name", "") for c in columns)
    scaled = bool(data.get("unit_note"))
    frame = exports.table_frame(data)
    config: dict[str, Any] = {}
    for name, column in zip(names, columns, strict=True):
        fmt = column.get("format", "text")
        # As many decimals as the column's numbers need: 26,974 (not 26,974.00), 1.65, 42.7%.
        places = exports.decimals_of(frame, name) if fmt != "text" else 0
        if fmt == "currency":
            # Figures in millions (the unit note says so) without a $; whole dollars with one.
            pattern = f"%,.{places}f" if scaled else f"$%,.{places}f"
            config[name] = st.column_config.NumberColumn(name, format=pattern)
        elif fmt == "percent":
            config[name] = st.column_config.NumberColumn(name, format=f"%,.{places}f%%")
        elif fmt == "integer":
            config[name] = st.column_config.NumberColumn(name, format="%,d")
        elif fmt == "number":
            config[name] = st.column_config.NumberColumn(name, format=f"%,.{places}f")
        else:
            config[name] = st.column_config.TextColumn(name)
    return config


def render_table(art: Artifact, *, key_prefix: str = "", downloads: bool = True) -> None:
    data = art.data
    with st.container(border=True):
        st.markdown(f"**{md_escape(art.title)}**")
        if data.get("unit_note"):
            st.caption(md_escape(data["unit_note"]))
        frame = exports.table_frame(data)
        st.dataframe(
            frame,
            hide_index=True,
            column_config=column_config(data),
            key=f"{key_prefix}{art.key}",
            width="stretch",
        )
        render_sources(data)
        render_caption(data, md_escape)
        if downloads:
            formats = [
                ("CSV", "csv", exports.table_csv, "text/csv"),
                ("Excel", "xlsx", exports.table_xlsx,
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ]
            with st.container(horizontal=True, gap="small"):
                for label, ext, export, mime in formats:
                    st.download_button(
                        label,
                        data=_deferred(export, data),
                        file_name=exports.safe_filename(art.title, ext, "table"),
                        mime=mime,
                        key=f"{key_prefix}{art.key}-{ext}",
                        on_click="ignore",
                        icon=":material/download:",
                        type="tertiary",
                    )


def render_artifact(
    art: Artifact, *, key_prefix: str = "", downloads: bool = True, metric_width: int | str = "stretch"
) -> None:
    match art.kind:
        case "metric":
            render_metric(art, key_prefix=key_prefix, width=metric_width)
        case "chart":
            render_chart(art, key_prefix=key_prefix, downloads=downloads)
        case "table":
            render_table(art, key_prefix=key_prefix, downloads=downloads)


class ArtifactPanel:
    """One answer's artifacts in a side column: metric tiles in a row, then charts, then tables.

    The three boxes are laid out up front, so artifacts streamed in any order land in their place.
    """

    def __init__(
        self, key_prefix: str = "", *, downloads: bool = True, kinds: set[str] | None = None
    ) -> None:
        self.key_prefix = key_prefix
        self.downloads = downloads
        self.kinds = kinds  # None: every kind; else only these (the panel's filter)
        self.metrics = st.container(horizontal=True, gap="small")
        self.charts = st.container()
        self.tables = st.container()
        self.count = 0

    def add(self, art: Artifact) -> None:
        box = {"metric": self.metrics, "chart": self.charts, "table": self.tables}.get(art.kind)
        if box is None:
            return
        if self.kinds is not None and art.kind not in self.kinds:
            # An empty element in its place: what the filter hides goes at once, instead of
            # staying on the page, greyed as stale, until a stream in progress ends.
            with box:
                st.empty()
            return
        with box:
            render_artifact(art, key_prefix=self.key_prefix, downloads=self.downloads)
        self.count += 1

    def extend(self, artifacts: list[Artifact]) -> None:
        for art in artifacts:
            self.add(art)


def _deferred(fn: Any, data: dict[str, Any]) -> Any:
    """A zero-argument callable, so the file is only built when the button is clicked."""

    def build() -> bytes:
        return fn(data)

    return build
