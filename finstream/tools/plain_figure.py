"""Plotly figures whose strings are plain text.

Plotly draws titles, axis titles, legend names, category labels and hover text as its own small
HTML: ``<a href=...>`` becomes a link, ``<b>`` bold. Chart text comes from the model (and through
it from a filing), so the figure keeps it literal: ``<``, ``>`` and ``&`` are written as entities,
which Plotly shows as the characters. A figure done so is marked in ``layout.meta``, so no surface
escapes it twice and figures stored before the change are still escaped when shown.
"""

from __future__ import annotations

from typing import Any

MARK = "finstream:plain-text"
_TRACE_TEXT = ("name", "x", "labels", "customdata", "text", "hovertext", "ids", "legendgrouptitle")


def escape(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if isinstance(value, list):
        return [escape(v) for v in value]
    if isinstance(value, dict):
        return {k: escape(v) for k, v in value.items()}
    return value


def _title(value: Any) -> Any:
    if isinstance(value, str):
        return escape(value)
    if not isinstance(value, dict):
        return value
    value = dict(value)
    if "text" in value:
        value["text"] = escape(value["text"])
    if "title" in value:
        value["title"] = _title(value["title"])
    return value


def is_plain(figure: dict[str, Any]) -> bool:
    meta = (figure.get("layout") or {}).get("meta")
    return isinstance(meta, dict) and meta.get("text") == MARK


def plain_figure(figure: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``figure`` with every text Plotly would read as HTML made literal (once)."""
    if is_plain(figure):
        return figure
    figure = dict(figure)
    layout = dict(figure.get("layout") or {})
    for key in list(layout):
        if key == "title" or key.startswith(("xaxis", "yaxis")) or key == "legend":
            layout[key] = _title(layout[key])
    if isinstance(layout.get("annotations"), list):
        layout["annotations"] = [escape(a) for a in layout["annotations"]]
    meta = layout.get("meta")
    if not isinstance(meta, dict):
        meta = {}
    layout["meta"] = {**meta, "text": MARK}
    figure["layout"] = layout
    traces = []
    for trace in figure.get("data") or []:
        trace = dict(trace)
        for key in _TRACE_TEXT:
            if key in trace:
                trace[key] = escape(trace[key])
        traces.append(trace)
    figure["data"] = traces
    return figure
